// server_stall: the server stops for a while (a long fsync, a GC pause): no request is
// served and no ping answered, so every session may expire at once when it resumes.
#include "core/prng.h"
#include "sim/faults/draft.h"
#include "sim/faults/fields.h"
#include "sim/faults/injector.h"

namespace lockstep::sim {

const FaultDescriptor& server_stall_fault() {
  static const FaultDescriptor d = {
      .kind = FaultKind::ServerStall,
      .name = "server_stall",
      .keys = {"kind", "at", "for", "store"},
      .required = {"at", "for"},
      .read =
          [](const scenario_json::Obj& o, const FaultLimits& limits, Fault& f) {
            fields::read_for(o, f);
            fields::read_store(o, limits, f);
          },
      .write =
          [](const Fault& f, nlohmann::ordered_json& j) {
            fields::put_at(f, j);
            fields::put_for(f, j);
            fields::put_store(f, j);
          },
      .describe = [](const Fault& f) { return "server stall for " + fields::length_text(f); },
      .apply =
          [](FaultInjector& inj, const Fault& f, int) {
            World& world = inj.world();
            const Duration length = f.length.value_or(Duration(0));
            Process& s = inj.store_server(f.store.value_or(0)).process();
            inj.note(-1, "server stall for " + format_duration(length));
            s.pause();
            world.at(world.now() + length, [&inj, &s] {
              inj.note(-1, "server stall ends");
              s.resume();
            });
          },
      .draw =
          [](NemesisDraw& d, Fault& f) {
            const Duration T = d.timeout;
            f.length = d.rng.chance(0.5) ? d.rng.between(T / 20, T / 2) : d.rng.between(T, T * 2);
          },
      .gen =
          [](const FaultDraft& base, int stores) {
            return rc::gen::build(draft::just(base), draft::at(), draft::span(),
                                  draft::store(stores));
          },
      .from_draft =
          [](const FaultDraft& d, const DraftScale& s, Fault& f) {
            f.length = s.of_timeout(d.length_pm);
            f.store = s.store(d.store);
          },
  };
  return d;
}

}  // namespace lockstep::sim
