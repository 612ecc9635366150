#include "sim/repro/claim.h"

#include <algorithm>
#include <cstdio>

#include "sim/run.h"

namespace lockstep::sim::repro {
namespace {

std::string number(double v) {
  char buf[32];
  if (v == static_cast<double>(static_cast<int64_t>(v)))
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
  else
    std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

std::string bound_text(const std::string& name, const CountBound& b) {
  if (b.min && b.max && *b.min == *b.max) return name + " = " + number(*b.min);
  if (b.min && b.max) return number(*b.min) + " <= " + name + " <= " + number(*b.max);
  if (b.min) return name + " >= " + number(*b.min);
  return name + " <= " + number(*b.max);
}

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

Observed observe_outcome(const RunOutcome& r) {
  Observed seen;
  for (const auto& v : r.verdicts) seen.verdicts[v.checker] = v.ok;
  int64_t accepted = 0, refused = 0;
  for (const auto& e : r.history.events()) {
    if (e.kind != EventKind::ResourceWrite) continue;
    if (e.outcome == WriteOutcome::Accepted) ++accepted;
    if (e.outcome == WriteOutcome::Refused) ++refused;
  }
  seen.counts["acquisitions"] = static_cast<double>(r.acquisitions);
  seen.counts["releases"] = static_cast<double>(r.releases);
  seen.counts["accepted_writes"] = static_cast<double>(accepted);
  seen.counts["refused_writes"] = static_cast<double>(refused);
  seen.counts["leftover_nodes"] = static_cast<double>(r.leftover.size());
  seen.counts["store_requests"] = static_cast<double>(r.store_requests);
  return seen;
}

}  // namespace

Observed observe(const RunOutcome& r) { return observe_outcome(r); }

Observed observe(const RunResult& r) {
  Observed seen = observe_outcome(r);
  seen.counts["watch_notifications"] = static_cast<double>(r.stats.watch_notifications);
  seen.counts["notifications_per_release"] =
      r.releases > 0 ? static_cast<double>(r.stats.watch_notifications) / r.releases : 0.0;
  return seen;
}

std::vector<std::string> mismatches(const Expectation& expect, const Observed& seen) {
  std::vector<std::string> out;
  auto check = [&](const std::vector<std::string>& names, bool want_held) {
    for (const auto& name : names) {
      auto it = seen.verdicts.find(name);
      if (it == seen.verdicts.end())
        out.push_back(name + " did not apply to this run");
      else if (it->second != want_held)
        out.push_back(name + (want_held ? " failed, the claim says it holds"
                                        : " held, the claim says it fails"));
    }
  };
  check(expect.fail, false);
  check(expect.hold, true);
  for (const auto& [name, bound] : expect.counts) {
    auto it = seen.counts.find(name);
    if (it == seen.counts.end()) {
      out.push_back(name + " is not measured in this world");
      continue;
    }
    const double v = it->second;
    if ((bound.min && v < *bound.min) || (bound.max && v > *bound.max))
      out.push_back(name + " = " + number(v) + ", the claim says " + bound_text(name, bound));
  }
  return out;
}

std::string describe(const Expectation& expect) {
  std::vector<std::string> parts;
  if (!expect.fail.empty()) parts.push_back("fails " + join(expect.fail));
  if (!expect.hold.empty()) parts.push_back("holds " + join(expect.hold));
  for (const auto& [name, bound] : expect.counts) parts.push_back(bound_text(name, bound));
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "; ") + p;
  return out;
}

std::string describe(const Observed& seen, const Expectation& asked) {
  std::vector<std::string> failed, held, counts;
  for (const auto& [name, ok] : seen.verdicts) (ok ? held : failed).push_back(name);
  for (const auto& [name, _] : asked.counts)
    if (auto it = seen.counts.find(name); it != seen.counts.end())
      counts.push_back(name + " = " + number(it->second));
  // The checkers in the table's order, as every report lists them.
  auto table_order = [](std::vector<std::string>& names) {
    const auto& table = checker_table();
    auto rank = [&](const std::string& n) {
      return std::find_if(table.begin(), table.end(),
                          [&](const CheckerRow& r) { return r.name == n; }) -
             table.begin();
    };
    std::sort(names.begin(), names.end(),
              [&](const auto& a, const auto& b) { return rank(a) < rank(b); });
  };
  table_order(failed);
  table_order(held);
  std::vector<std::string> parts;
  if (!failed.empty()) parts.push_back("fails " + join(failed));
  if (!held.empty()) parts.push_back("holds " + join(held));
  for (const auto& c : counts) parts.push_back(c);
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "; ") + p;
  return out;
}

}  // namespace lockstep::sim::repro
