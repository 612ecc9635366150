// expire_session: the server expires every session of a client now, as if its timeout had
// lapsed; the client hears of it when it next talks to the server.
#include "sim/faults/draft.h"
#include "sim/faults/fields.h"
#include "sim/faults/injector.h"

namespace lockstep::sim {

const FaultDescriptor& expire_session_fault() {
  static const FaultDescriptor d = {
      .kind = FaultKind::ExpireSession,
      .name = "expire_session",
      // `live --fault` called it expire.
      .aliases = {"expire"},
      .keys = {"kind", "client", "at", "store"},
      .required = {"client", "at"},
      .read =
          [](const scenario_json::Obj& o, const FaultLimits& limits, Fault& f) {
            fields::read_client(o, limits, f);
            fields::read_store(o, limits, f);
          },
      .write =
          [](const Fault& f, nlohmann::ordered_json& j) {
            fields::put_client(f, j);
            fields::put_at(f, j);
            fields::put_store(f, j);
          },
      .describe =
          [](const Fault& f) {
            return "expire the session of " + fields::target_text(f.target) +
                   fields::on_store_text(f);
          },
      .apply =
          [](FaultInjector& inj, const Fault& f, int client) {
            inj.note(client, "expire_session" + fields::on_store_text(f));
            for (ZkServer* server : inj.store_servers()) {
              if (f.store && server->store() != *f.store) continue;
              for (int64_t id : server->sessions_of(client)) server->expire_session(id);
            }
          },
      .draw = [](NemesisDraw& d, Fault& f) { f.target = d.pick_client(true); },
      .gen =
          [](const FaultDraft& base, int) {
            return rc::gen::build(draft::just(base), draft::at(), draft::client(), draft::index());
          },
      .from_draft = [](const FaultDraft&, const DraftScale&, Fault&) {},
      .live = {.params = {LiveParam::Client, LiveParam::At},
               .required = 2,
               .help = "end its sessions from outside (a second handle)",
               // Live, the sessions of the first store.
               .usable = [](const Fault& f) { return !f.store || *f.store == 0; }},
  };
  return d;
}

}  // namespace lockstep::sim
