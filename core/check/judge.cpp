#include "core/check/judge.h"

#include <algorithm>

namespace lockstep {

namespace {

bool always(const History&, const RunFacts&) { return true; }
bool with_resource(const History&, const RunFacts& f) { return f.resource; }
bool with_ordered_writes(const History&, const RunFacts& f) {
  return f.resource && f.writes_ordered;
}
bool without_faults(const History&, const RunFacts& f) { return !f.faults; }
bool with_faults(const History&, const RunFacts& f) { return f.faults; }
bool with_tokens(const History& h, const RunFacts&) {
  return std::any_of(h.events().begin(), h.events().end(), [](const HistoryEvent& e) {
    return e.kind == EventKind::Acquired && e.token.has_value();
  });
}

Verdict mutual_exclusion(const History& h, const RunFacts&) { return check_mutual_exclusion(h); }
Verdict fencing(const History& h, const RunFacts&) { return check_fencing(h); }
Verdict lost_update(const History& h, const RunFacts& f) {
  return check_lost_update(h, f.final_resource);
}
Verdict token_sanity(const History& h, const RunFacts&) { return check_token_sanity(h); }
bool with_renewals(const History& h, const RunFacts&) {
  return std::any_of(h.events().begin(), h.events().end(),
                     [](const HistoryEvent& e) { return e.kind == EventKind::Renewed; });
}
Verdict renewal(const History& h, const RunFacts&) { return check_renewal(h); }
Verdict liveness(const History& h, const RunFacts& f) {
  return check_liveness(h, LivenessInput{.clients = f.clients,
                                         .cycles = f.cycles,
                                         .faults = f.faults,
                                         .leftover_nodes = f.leftover_nodes,
                                         .end = f.end});
}
Verdict liveness_after_quiet(const History& h, const RunFacts& f) {
  const QuietBounds b = quiet_bounds(f);
  return check_liveness_after_quiet(h, QuietLivenessInput{.clients = f.clients,
                                                          .quiet_from = f.quiet_from,
                                                          .settle = b.settle,
                                                          .wait_bound = b.wait_bound,
                                                          .leftover_nodes = f.leftover_nodes,
                                                          .end = f.end});
}

}  // namespace

QuietBounds quiet_bounds(const RunFacts& f) {
  return QuietBounds{
      .settle = mul_sat(f.session_timeout, 2),
      // Saturating: a hold or latency of years times a thousand clients is "never".
      .wait_bound =
          add_sat(mul_sat(f.session_timeout, 2),
                  mul_sat(add_sat(mul_sat(f.hold, 2), mul_sat(f.max_latency, 10)), f.clients))};
}

const std::vector<CheckerRow>& checker_table() {
  static const std::vector<CheckerRow> table = {
      {.name = "mutual-exclusion",
       .needs = "every run",
       .applies = always,
       .check = mutual_exclusion},
      {.name = "fencing",
       .needs = "a resource whose accepted writes name their zxid",
       .applies = with_ordered_writes,
       .check = fencing},
      {.name = "lost-update",
       .needs = "a resource",
       .applies = with_resource,
       .check = lost_update},
      {.name = "token-sanity",
       .needs = "a grant with a token",
       .applies = with_tokens,
       .check = token_sanity},
      {.name = "liveness", .needs = "no faults", .applies = without_faults, .check = liveness},
      {.name = "liveness-after-quiet",
       .needs = "faults (judged after they stop)",
       .applies = with_faults,
       .check = liveness_after_quiet},
      {.name = "renewal",
       .needs = "a successful renewal reported by the lock",
       .applies = with_renewals,
       .check = renewal},
  };
  return table;
}

bool RunOutcome::ok() const {
  return std::all_of(verdicts.begin(), verdicts.end(), [](const Verdict& v) { return v.ok; });
}

RunOutcome judge(History history, const RunFacts& facts) {
  RunOutcome out;
  out.history = std::move(history);
  for (const HistoryEvent& e : out.history.events()) {
    if (e.kind == EventKind::Acquired) ++out.acquisitions;
    if (e.kind == EventKind::Released) ++out.releases;
  }
  out.store_requests = facts.store_requests;
  out.all_clients_done = facts.all_clients_done;
  out.leftover = facts.leftover_nodes;
  out.resource_value = facts.final_resource.final_value;
  for (const CheckerRow& row : checker_table())
    if (row.applies(out.history, facts)) out.verdicts.push_back(row.check(out.history, facts));
  return out;
}

}  // namespace lockstep
