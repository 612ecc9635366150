// The judge: which checkers apply to a run, and their verdicts, the same for a simulated
// and a live run. A world gathers the facts of its run (RunFacts) and hands them over
// with the history; the checker table decides the rest.
//
// Adding a checker: write it in a file of its own under core/check/ (declared in
// checker.h), then add one row to the table in judge.cpp. Its place in the table is its
// place in every verdict list, report and the safety matrix.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/check/checker.h"
#include "core/history.h"
#include "core/time.h"

namespace lockstep {

// What a run offers the checkers besides its history.
struct RunFacts {
  int clients = 0;                 // clients 0 .. clients-1 ran the workload
  int cycles = 0;                  // cycles each had to complete
  bool resource = false;           // the clients wrote a resource
  LostUpdateInput final_resource;  // its counter at the end, as read from the store
  bool faults = false;             // faults were injected
  Time quiet_from{0};              // faulted runs: no fault is active from here on
  Duration session_timeout{0};
  Duration hold{0};
  Duration max_latency{0};  // the one-way latency the liveness wait bound allows for
  std::vector<std::string> leftover_nodes;  // lock nodes left after every session closed
  Time end{0};                              // true time when the clients settled
  bool all_clients_done = false;
  int64_t store_requests = 0;
  // Every accepted resource write names its place in the store's order (zxid). Only a
  // black-box client of a live run may leave it out; the fencing checker then does not
  // apply (it cannot order the writes).
  bool writes_ordered = true;
};

// How long after the faults stopped the system may take to settle, and the longest one
// acquire may then wait (see check_liveness_after_quiet):
//   settle = 2 x session timeout: a session a fault cut off has by then expired on the
//     server (its ephemerals gone, even with the server's clock set back a little) or
//     reconnected, and its client has heard which;
//   wait_bound = 2 x session timeout + clients x (2 x hold + 10 x max latency): in the
//     worst case every other client holds once ahead of a waiter; 2 x hold leaves room
//     for clocks the faults left drifting (the nemesis draws at most 5%), 10 one-way
//     latencies cover a hand-over (delete, notification, listing, read), and the session
//     timeouts cover a session that expires while queued and must be opened again.
struct QuietBounds {
  Duration settle{0};
  Duration wait_bound{0};
};
QuietBounds quiet_bounds(const RunFacts& facts);

// One row of the checker table.
struct CheckerRow {
  std::string_view name;   // the verdict's checker name
  std::string_view needs;  // when it applies, in words
  bool (*applies)(const History& h, const RunFacts& facts);
  Verdict (*check)(const History& h, const RunFacts& facts);
};
// Every checker, in the order verdicts are listed everywhere.
const std::vector<CheckerRow>& checker_table();

// What a judged run comes to, in either world.
struct RunOutcome {
  History history;
  std::vector<Verdict> verdicts;  // every checker that applied, in the table's order
  int64_t acquisitions = 0;
  int64_t releases = 0;
  int64_t store_requests = 0;
  bool all_clients_done = false;          // every client finished its cycles
  std::vector<std::string> leftover;      // lock nodes left after every session closed
  std::optional<int64_t> resource_value;  // the resource's counter at the end, if any
  bool ok() const;                        // every verdict passed
};

// Runs every checker that applies to the run and counts its grants and releases.
RunOutcome judge(History history, const RunFacts& facts);

}  // namespace lockstep
