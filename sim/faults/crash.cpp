// crash: a client process dies, and with restart_after starts again that much later and
// runs its workload from the beginning.
#include "core/prng.h"
#include "sim/faults/draft.h"
#include "sim/faults/fields.h"
#include "sim/faults/injector.h"

namespace lockstep::sim {

const FaultDescriptor& crash_fault() {
  static const FaultDescriptor d = {
      .kind = FaultKind::Crash,
      .name = "crash",
      .keys = {"kind", "client", "at", "restart_after"},
      .required = {"client", "at"},
      .read =
          [](const scenario_json::Obj& o, const FaultLimits& limits, Fault& f) {
            fields::read_client(o, limits, f);
            fields::read_restart_after(o, f);
          },
      .write =
          [](const Fault& f, nlohmann::ordered_json& j) {
            fields::put_client(f, j);
            fields::put_at(f, j);
            fields::put_restart_after(f, j);
          },
      .describe =
          [](const Fault& f) {
            return "crash " + fields::target_text(f.target) +
                   (f.restart_after ? ", restart after " + format_duration(*f.restart_after) : "");
          },
      .apply =
          [](FaultInjector& inj, const Fault& f, int client) {
            Process& p = inj.client(client);
            if (!p.alive()) return inj.note(client, "crash: skipped, already down");
            HistoryEvent e;
            e.client = client;
            e.kind = EventKind::ClientCrashed;
            inj.record(e);
            inj.note(client, "crash" + (f.restart_after
                                            ? ", restart after " + format_duration(*f.restart_after)
                                            : std::string()));
            p.crash();
            if (f.restart_after) inj.restart_later(client, *f.restart_after);
          },
      .draw =
          [](NemesisDraw& d, Fault& f) {
            f.target = d.pick_client(true);
            f.restart_after = d.rng.between(d.timeout / 4, d.timeout * 2);
          },
      // Always restarted: a crash for good only stops the workload.
      .gen =
          [](const FaultDraft& base, int) {
            return rc::gen::build(draft::just(base), draft::at(), draft::client(), draft::index(),
                                  draft::length(250, 2001));
          },
      .from_draft = [](const FaultDraft& d, const DraftScale& s,
                       Fault& f) { f.restart_after = s.of_timeout(d.length_pm); },
      .live = {.params = {LiveParam::Client, LiveParam::At, LiveParam::RestartAfter},
               .required = 2,
               .help = "SIGKILL; a fresh client RESTART_AFTER later",
               .zk_only = true},
  };
  return d;
}

}  // namespace lockstep::sim
