// store_crash: one of an algorithm's independent stores (Redlock's N) goes down, and comes
// back restart_after later, with its data or empty. Live, the leader of the first store's
// ensemble is killed and restarted (its data on disk).
#include "sim/faults/draft.h"
#include "sim/faults/fields.h"
#include "sim/faults/injector.h"

namespace lockstep::sim {

const FaultDescriptor& store_crash_fault() {
  static const FaultDescriptor d = {
      .kind = FaultKind::StoreCrash,
      .name = "store_crash",
      // `live --fault` called it kill-leader.
      .aliases = {"kill-leader"},
      .keys = {"kind", "store", "at", "restart_after", "persist"},
      .required = {"store", "at", "restart_after"},
      .read =
          [](const scenario_json::Obj& o, const FaultLimits& limits, Fault& f) {
            fields::read_restart_after(o, f);
            fields::read_store(o, limits, f);
            if (const auto* v = o.find("persist"))
              f.persist = scenario_json::read_bool(*v, o.at("persist"));
          },
      .write =
          [](const Fault& f, nlohmann::ordered_json& j) {
            fields::put_store(f, j);
            fields::put_at(f, j);
            fields::put_restart_after(f, j);
            j["persist"] = f.persist;
          },
      .describe =
          [](const Fault& f) {
            return "crash store " + std::to_string(f.store.value_or(0)) + ", restart after " +
                   format_duration(f.restart_after.value_or(Duration(0))) +
                   (f.persist ? "" : ", data lost");
          },
      .apply =
          [](FaultInjector& inj, const Fault& f, int) {
            World& world = inj.world();
            ZkServer* s = &inj.store_server(f.store.value_or(0));
            const std::string name = "store " + std::to_string(f.store.value_or(0));
            inj.note(-1,
                     name + " crash" +
                         (f.restart_after ? ", restart after " + format_duration(*f.restart_after) +
                                                (f.persist ? " with its data" : " empty")
                                          : std::string()));
            s->crash();
            if (f.restart_after) {
              const bool persist = f.persist;
              world.at(world.now() + *f.restart_after, [&inj, s, name, persist] {
                inj.note(-1, name + " restart");
                s->restart(persist);
              });
            }
          },
      // The nemesis leaves it out: it draws for one store.
      .draw = nullptr,
      .gen =
          [](const FaultDraft& base, int stores) {
            return rc::gen::build(
                draft::just(base), draft::at(), draft::store(stores), draft::length(250, 2001),
                rc::gen::set(&FaultDraft::persist, rc::gen::element(true, false)));
          },
      .from_draft =
          [](const FaultDraft& d, const DraftScale& s, Fault& f) {
            f.store = s.store(d.store);
            f.restart_after = s.of_timeout(d.length_pm);
            f.persist = d.persist;
          },
      // On a single store it would only be skipped.
      .min_stores = 2,
      .live = {.params = {LiveParam::At, LiveParam::RestartAfter},
               .required = 1,
               .help = "SIGKILL the first store's ZooKeeper leader, restart it RESTART_AFTER "
                       "later (default 3s)",
               .zk_only = true,
               // Live, the first store's leader restarts with its data on disk.
               .usable = [](const Fault& f) { return f.store.value_or(0) == 0 && f.persist; }},
  };
  return d;
}

}  // namespace lockstep::sim
