#include "cli/report.h"

#include <cstdio>
#include <string>

namespace lockstep::cli {

namespace {
std::string padded(const std::string& s, size_t width) {
  return s.size() >= width ? s + " " : s + std::string(width - s.size(), ' ');
}
}  // namespace

void print_report(std::ostream& out, const std::string& heading, const RunOutcome& r,
                  const std::vector<SummaryRow>& summary,
                  const std::vector<std::string>& problems) {
  out << heading;
  for (const auto& v : r.verdicts) {
    out << padded(v.checker, 19) << (v.ok ? "PASS  " : "FAIL  ") << v.summary << "\n";
    for (const auto& d : v.details) out << "    " << d << "\n";
  }
  out << "\n";
  for (const auto& row : summary) out << padded(row.name, 21) << row.value << "\n";
  for (const auto& p : problems) out << "problem: " << p << "\n";
  out << "verdict: " << (r.ok() ? "PASS" : "FAIL (a checker found a violation)") << "\n";
}

void print_run_report(std::ostream& out, const sim::Scenario& sc, const sim::RunResult& r) {
  const std::string heading = "scenario: " + sc.algorithm + ", " + std::to_string(sc.clients) +
                              " clients x " + std::to_string(sc.workload.cycles) +
                              " cycles, seed " + std::to_string(sc.seed) + ", " +
                              std::to_string(sc.faults.size()) + " scheduled faults" +
                              (sc.nemesis.enabled ? ", nemesis on" : "") + "\n\n";
  char per_release[64];
  if (r.releases > 0)
    std::snprintf(
        per_release, sizeof per_release, "%.2f per release (%lld / %lld)",
        static_cast<double>(r.stats.watch_notifications) / static_cast<double>(r.releases),
        static_cast<long long>(r.stats.watch_notifications), static_cast<long long>(r.releases));
  else
    std::snprintf(per_release, sizeof per_release, "%lld (no release)",
                  static_cast<long long>(r.stats.watch_notifications));
  print_report(
      out, heading, r,
      {{.name = "acquisitions", .value = std::to_string(r.acquisitions)},
       {.name = "store requests", .value = std::to_string(r.store_requests)},
       {.name = "watch notifications", .value = per_release},
       {.name = "virtual time",
        .value = format_seconds(r.stats.virtual_time) +
                 (r.all_clients_done ? "" : "  (duration reached before every client finished)")},
       {.name = "simulated events", .value = std::to_string(r.stats.events)}});
}

void print_live_report(std::ostream& out, const real::LiveRunSpec& spec, const std::string& store,
                       const real::LiveRunResult& r) {
  const std::string heading =
      "live: " + spec.client.algorithm + ", " + std::to_string(spec.clients) + " clients x " +
      std::to_string(spec.client.cycles) + " cycles on " + store + ", " +
      std::to_string(spec.faults.size()) + " fault" + (spec.faults.size() == 1 ? "" : "s") +
      "\nlock: " + r.lock_path + "\n\n";
  std::vector<SummaryRow> summary = {
      {.name = "acquisitions", .value = std::to_string(r.acquisitions)},
      {.name = "releases", .value = std::to_string(r.releases)},
      {.name = "store requests", .value = std::to_string(r.store_requests)}};
  if (r.resource_value)
    summary.push_back({.name = "resource value", .value = std::to_string(*r.resource_value)});
  summary.push_back({.name = "faults applied", .value = std::to_string(r.faults_applied)});
  summary.push_back({.name = "wall time",
                     .value = format_seconds(r.elapsed) +
                              (r.cut_off ? "  (cut off: the duration ran out, the clients still "
                                           "running were killed then and believe nothing after)"
                               : r.all_clients_done ? ""
                                                    : "  (not every client finished)")});
  summary.push_back(
      {.name = "cleanup", .value = r.root + (r.cleaned ? " removed" : " NOT removed")});
  print_report(out, heading, r, summary, r.problems);
}

}  // namespace lockstep::cli
