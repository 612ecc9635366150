#include <map>
#include <vector>

#include "core/check/checker.h"

namespace lockstep {

namespace {

constexpr size_t kMaxDetails = 50;

struct Grant {
  int client = -1;
  Time lo{0};
  Time hi{0};
};

}  // namespace

Verdict check_renewal(const History& h) {
  Verdict v;
  v.checker = "renewal";

  std::vector<Grant> grants;
  for (const HistoryEvent& e : h.events())
    if (e.kind == EventKind::Acquired && e.client >= 0)
      grants.push_back(Grant{.client = e.client, .lo = e.lo, .hi = e.hi});

  // Per client: when its current grant certainly happened (its Acquired's hi), and when
  // each of that grant's renewals certainly began (its RenewStart's lo), by number.
  std::map<int, Time> granted;
  std::map<int, std::map<int64_t, Time>> begun;
  size_t renewals = 0, violations = 0;
  std::string first;
  for (const HistoryEvent& e : h.events()) {
    if (e.client < 0) continue;
    if (e.kind == EventKind::Acquired) {
      granted[e.client] = e.hi;
      begun[e.client].clear();
      continue;
    }
    if (e.kind == EventKind::RenewStart && e.value) begun[e.client][*e.value] = e.lo;
    if (e.kind != EventKind::Renewed) continue;
    ++renewals;
    auto g = granted.find(e.client);
    auto& starts = begun[e.client];
    auto s = e.value ? starts.find(*e.value) : starts.end();
    if (g == granted.end() || s == starts.end()) continue;  // no grant or no start: no claim
    const Time since = g->second;
    const Time began = s->second;
    // A grant to another client certainly after ours and certainly before the renewal
    // began: the renewal's "held since the grant" is false.
    for (const Grant& other : grants) {
      if (other.client == e.client || !(other.lo > since) || !(other.hi < began)) continue;
      ++violations;
      const std::string text =
          "client " + std::to_string(e.client) + "'s renewal #" + std::to_string(*e.value) +
          " begun at " + format_instant(began) + " succeeded (held since its grant at " +
          format_instant(since) + "), but client " + std::to_string(other.client) +
          " was granted the lock at " + format_instant(other.hi) + " in between";
      if (first.empty()) first = text;
      if (v.details.size() < kMaxDetails) {
        v.details.push_back(text);
        name_client(v, e.client);
        name_client(v, other.client);
      }
      break;  // one foreign grant is enough to refute this renewal
    }
  }
  if (violations > kMaxDetails)
    v.details.push_back("... and " + std::to_string(violations - kMaxDetails) +
                        " more such renewals");
  if (violations == 0) {
    v.summary = "holds: " + std::to_string(renewals) +
                " successful renewals, none after another client's grant";
  } else {
    v.ok = false;
    v.summary = "VIOLATED: " + std::to_string(violations) + " of " + std::to_string(renewals) +
                " successful renewals came after another client's grant (" + first + ")";
  }
  return v;
}

}  // namespace lockstep
