// One simulated run of a scenario: build the world, run every client's workload until
// all are done or the scenario's duration is reached, and hand back what happened.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/check/checker.h"
#include "core/history.h"
#include "sim/scenario.h"

namespace lockstep::sim {

struct RunStats {
  int64_t acquisitions = 0;
  int64_t releases = 0;
  int64_t store_requests = 0;       // requests the server processed (pings excluded)
  int64_t watch_notifications = 0;  // watch events delivered to clients
  int64_t events = 0;               // world events executed
  Duration virtual_time{0};         // true time at the end of the run
};

struct RunResult {
  History history;
  std::vector<std::string> trace;  // JSON lines, byte-identical for the same scenario
  RunStats stats;
  bool all_clients_done = false;      // every client finished its cycles
  std::vector<std::string> leftover;  // znodes under the lock path after all sessions closed
  // The resource's counter at the end (scenarios with a resource whose node exists).
  std::optional<int64_t> resource_value;
  std::vector<Verdict> verdicts;  // every checker that applies to this scenario
  bool ok() const;                // every verdict passed
};

struct RunOptions {
  bool keep_trace = true;  // build the JSON-lines trace (off for fast searches)
};

// Throws ScenarioError for an unknown algorithm and OptionError for an option its
// catalogue entry refuses, before anything runs.
RunResult run_scenario(const Scenario& scenario, const RunOptions& options = {});

}  // namespace lockstep::sim
