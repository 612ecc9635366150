// One simulated run of a scenario: build the world, run every client's workload until
// all are done or the scenario's duration is reached, and hand back what happened.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/check/judge.h"
#include "core/history.h"
#include "sim/scenario.h"

namespace lockstep::sim {

// What only a simulated run counts; the judged outcome (RunOutcome) holds the rest. Its
// store_requests are the requests the servers processed (pings excluded).
struct RunStats {
  int64_t watch_notifications = 0;  // watch events delivered to clients
  int64_t events = 0;               // world events executed
  Duration virtual_time{0};         // true time at the end of the run
};

struct RunResult : RunOutcome {
  std::vector<std::string> trace;  // JSON lines, byte-identical for the same scenario
  RunStats stats;
};

// The most simulated steps one run may take (docs/scenario.md, "Limits"): each world event
// is one step, and the work an event does in proportion to the input (each name of a
// children listing, each fault window a message passes) is charged too. Every committed
// scenario takes under 50,000 events; a scenario that asks for far more (a thousand
// clients doing two billion cycles, a nanosecond strobe for years) is refused when it gets
// there, seconds into the run, instead of running for hours.
inline constexpr uint64_t kEventBudget = 1'000'000;
// A herd's work grows with the square of its clients (each of N waiters reads a listing of
// N names, and again after each release ahead of it), so a run also gets this much per
// pair of clients: a thousand clients get 17,000,000 steps.
inline constexpr uint64_t kEventBudgetPerClientPair = 16;
// The budget of a run of `scenario`: kEventBudget + kEventBudgetPerClientPair x clients^2.
uint64_t event_budget_for(const Scenario& scenario);

struct RunOptions {
  bool keep_trace = true;     // build the JSON-lines trace (off for fast searches)
  uint64_t event_budget = 0;  // 0: event_budget_for(the scenario)
};

// Throws ScenarioError for an unknown algorithm and OptionError for an option its
// catalogue entry refuses, before anything runs, and ScenarioError for a run that spends
// its event budget (it is not judged: a cut-off run would blame the algorithm).
RunResult run_scenario(const Scenario& scenario, const RunOptions& options = {});

}  // namespace lockstep::sim
