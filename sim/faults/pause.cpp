// pause: a process stops (a GC pause, SIGSTOP): no coroutine runs, no ping goes out,
// messages wait; on resume its local clock has moved on.
#include "core/prng.h"
#include "sim/faults/draft.h"
#include "sim/faults/fields.h"
#include "sim/faults/injector.h"

namespace lockstep::sim {

const FaultDescriptor& pause_fault() {
  static const FaultDescriptor d = {
      .kind = FaultKind::Pause,
      .name = "pause",
      .keys = {"kind", "client", "at", "for"},
      .required = {"client", "at", "for"},
      .read =
          [](const scenario_json::Obj& o, const FaultLimits& limits, Fault& f) {
            fields::read_client(o, limits, f);
            fields::read_for(o, f);
          },
      .write =
          [](const Fault& f, nlohmann::ordered_json& j) {
            fields::put_client(f, j);
            fields::put_at(f, j);
            fields::put_for(f, j);
          },
      .describe =
          [](const Fault& f) {
            return "pause " + fields::target_text(f.target) + " for " + fields::length_text(f);
          },
      .apply =
          [](FaultInjector& inj, const Fault& f, int client) {
            World& world = inj.world();
            Process& p = inj.client(client);
            const Duration length = f.length.value_or(Duration(0));
            inj.note(client, "pause for " + format_duration(length));
            p.pause();
            world.at(world.now() + length, [&inj, &p, client] {
              inj.note(client, "resume");
              p.resume();
            });
          },
      .draw =
          [](NemesisDraw& d, Fault& f) {
            const Duration T = d.timeout;
            f.target = d.pick_client(true);
            // Short pauses and pauses well past the session timeout.
            f.length = d.rng.chance(0.5) ? d.rng.between(T / 20, T / 2) : d.rng.between(T, T * 3);
          },
      .gen =
          [](const FaultDraft& base, int) {
            return rc::gen::build(draft::just(base), draft::at(), draft::client(), draft::index(),
                                  draft::span());
          },
      .from_draft = [](const FaultDraft& d, const DraftScale& s,
                       Fault& f) { f.length = s.of_timeout(d.length_pm); },
      .live = {.params = {LiveParam::Client, LiveParam::At, LiveParam::For},
               .required = 3,
               .help = "SIGSTOP, SIGCONT after FOR"},
  };
  return d;
}

}  // namespace lockstep::sim
