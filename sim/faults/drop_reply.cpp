// drop_reply: the server applies a client's next request (of one kind, or any) and the
// reply is lost as the connection breaks: the client cannot tell whether it happened.
#include "core/prng.h"
#include "sim/faults/draft.h"
#include "sim/faults/fields.h"
#include "sim/faults/injector.h"

namespace lockstep::sim {

namespace {
const std::vector<std::string> kOps = {"create", "delete",   "set",  "get",
                                       "exists", "children", "multi"};
}  // namespace

const FaultDescriptor& drop_reply_fault() {
  static const FaultDescriptor d = {
      .kind = FaultKind::DropReply,
      .name = "drop_reply",
      // `check --faults` and the matrix call it lost-reply.
      .aliases = {"lost-reply"},
      .keys = {"kind", "client", "at", "op", "store"},
      .required = {"client", "at"},
      .read =
          [](const scenario_json::Obj& o, const FaultLimits& limits, Fault& f) {
            fields::read_client(o, limits, f);
            if (const auto* v = o.find("op"))
              f.op = scenario_json::read_choice(*v, o.at("op"), kOps);
            fields::read_store(o, limits, f);
          },
      .write =
          [](const Fault& f, nlohmann::ordered_json& j) {
            fields::put_client(f, j);
            fields::put_at(f, j);
            if (!f.op.empty()) j["op"] = f.op;
            fields::put_store(f, j);
          },
      .describe =
          [](const Fault& f) {
            return "lose the reply to " + fields::target_text(f.target) + "'s next " +
                   (f.op.empty() ? "request" : f.op) + fields::on_store_text(f);
          },
      .apply =
          [](FaultInjector& inj, const Fault& f, int client) {
            inj.note(client, "drop_reply armed" + (f.op.empty() ? std::string() : " for " + f.op) +
                                 fields::on_store_text(f));
            inj.lose_next_reply(client, f.op, f.store);
          },
      .draw =
          [](NemesisDraw& d, Fault& f) {
            f.target = d.pick_client(true);
            static const char* kDrawn[] = {"",    "create",   "delete", "set",
                                           "get", "children", "exists"};
            f.op = kDrawn[d.rng.below(7)];
          },
      // The lost create (a lock node nobody knows it owns), the lost delete.
      .gen =
          [](const FaultDraft& base, int) {
            return rc::gen::build(draft::just(base), draft::at(), draft::client(), draft::index(),
                                  rc::gen::set(&FaultDraft::variant, rc::gen::element(0, 1)));
          },
      .from_draft = [](const FaultDraft& d, const DraftScale&,
                       Fault& f) { f.op = d.variant == 0 ? "create" : "delete"; },
  };
  return d;
}

}  // namespace lockstep::sim
