#include "cli/report.h"

#include <cstdio>
#include <string>

namespace lockstep::cli {

namespace {
std::string padded(const std::string& s, size_t width) {
  return s.size() >= width ? s + " " : s + std::string(width - s.size(), ' ');
}
}  // namespace

void print_run_report(std::ostream& out, const sim::Scenario& sc, const sim::RunResult& r) {
  out << "scenario: " << sc.algorithm << ", " << sc.clients << " clients x " << sc.workload.cycles
      << " cycles, seed " << sc.seed << ", " << sc.faults.size() << " scheduled faults"
      << (sc.nemesis.enabled ? ", nemesis on" : "") << "\n\n";
  for (const auto& v : r.verdicts) {
    out << padded(v.checker, 19) << (v.ok ? "PASS  " : "FAIL  ") << v.summary << "\n";
    for (const auto& d : v.details) out << "    " << d << "\n";
  }
  out << "\n";
  char per_release[64];
  if (r.stats.releases > 0)
    std::snprintf(
        per_release, sizeof per_release, "%.2f per release (%lld / %lld)",
        static_cast<double>(r.stats.watch_notifications) / static_cast<double>(r.stats.releases),
        static_cast<long long>(r.stats.watch_notifications),
        static_cast<long long>(r.stats.releases));
  else
    std::snprintf(per_release, sizeof per_release, "%lld (no release)",
                  static_cast<long long>(r.stats.watch_notifications));
  out << padded("acquisitions", 21) << r.stats.acquisitions << "\n";
  out << padded("store requests", 21) << r.stats.store_requests << "\n";
  out << padded("watch notifications", 21) << per_release << "\n";
  out << padded("virtual time", 21) << format_seconds(r.stats.virtual_time)
      << (r.all_clients_done ? "" : "  (duration reached before every client finished)") << "\n";
  out << padded("simulated events", 21) << r.stats.events << "\n";
  out << "verdict: " << (r.ok() ? "PASS" : "FAIL (a checker found a violation)") << "\n";
}

}  // namespace lockstep::cli
