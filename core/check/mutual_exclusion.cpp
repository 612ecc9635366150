#include <algorithm>

#include "core/check/checker.h"

namespace lockstep {

namespace {

constexpr size_t kMaxDetails = 50;

std::string describe(const BeliefInterval& b) {
  std::string out = "client " + std::to_string(b.client) + " (";
  out += b.token ? "token " + std::to_string(*b.token) : std::string("no token");
  out += ") held [" + format_instant(b.start) + ", " + format_instant(b.end) + "]";
  if (b.open) out += " (still held at the end)";
  return out;
}

}  // namespace

Verdict check_mutual_exclusion(const History& h) {
  Verdict v;
  v.checker = "mutual-exclusion";
  const auto beliefs = belief_intervals(h);

  size_t pairs = 0;
  std::string first;
  // Sorted by start, so only the intervals starting before one ends can overlap it.
  for (size_t i = 0; i < beliefs.size(); ++i) {
    for (size_t j = i + 1; j < beliefs.size() && beliefs[j].start < effective_end(beliefs[i]);
         ++j) {
      const auto& a = beliefs[i];
      const auto& b = beliefs[j];
      if (!overlap(a, b)) continue;
      ++pairs;
      const Time from = std::max(a.start, b.start);
      const Time to = std::min(effective_end(a), effective_end(b));
      const std::string during = to == Time::max()
                                     ? "[" + format_instant(from) + ", the end of the history]"
                                     : "[" + format_instant(from) + ", " + format_instant(to) + "]";
      if (first.empty())
        first = "client " + std::to_string(a.client) + " and client " + std::to_string(b.client) +
                " both held during " + during;
      if (v.details.size() < kMaxDetails) {
        v.details.push_back(describe(a) + " and " + describe(b) + ": both held during " + during);
        name_client(v, a.client);
        name_client(v, b.client);
      }
    }
  }
  if (pairs > kMaxDetails)
    v.details.push_back("... and " + std::to_string(pairs - kMaxDetails) +
                        " more overlapping pairs");

  if (pairs == 0) {
    v.summary = "holds: " + std::to_string(beliefs.size()) + " grants, no overlap";
  } else {
    v.ok = false;
    // The count is of pairs of holds: three clients that all held at once are three
    // overlapping pairs, and one client overlapping two others is two.
    v.summary = "VIOLATED: " + std::to_string(pairs) +
                (pairs == 1 ? " overlapping pair of holds (" : " overlapping pairs of holds (") +
                first + ")";
  }
  return v;
}

}  // namespace lockstep
