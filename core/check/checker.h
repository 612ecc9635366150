// The checkers: verdicts computed from the history alone, never from an algorithm's own
// word. Each returns a Verdict naming itself, whether it held, a one-line summary and
// one line per offending detail.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/history.h"
#include "core/time.h"

namespace lockstep {

struct Verdict {
  std::string checker;
  bool ok = true;
  std::string summary;
  std::vector<std::string> details;
};

// One span in which a client believed it held the lock, in true time, keeping only the
// part that is certain: from the latest moment its Acquired event can have happened
// (hi) to the earliest moment the event that ended the belief can have happened (lo).
// With the simulator's exact stamps (lo == hi) that is the whole span.
struct BeliefInterval {
  int client = -1;
  std::optional<uint64_t> token;
  Time start{0};
  Time end{0};
  // Nothing ended it: the client still believed when the history ends, and `end` is
  // that moment.
  bool open = false;
  std::optional<EventKind> ended_by;
  size_t acquired_event = 0;          // index into History::events()
  std::optional<size_t> ended_event;  // index of the event that ended it
};

// The latest moment the history certainly reached: the greatest `lo` of its events.
Time history_end(const History& h);

// Every client's belief intervals, ordered by start (then client). A belief starts at
// an Acquired event and ends at the client's next LostObserved, ReleaseStart or
// ClientCrashed (a restart's ClientStart or a ClientDone ends it too: a new incarnation
// or a finished workload believes nothing), or at `end` (history_end() if not given).
std::vector<BeliefInterval> belief_intervals(const History& h,
                                             std::optional<Time> end = std::nullopt);

// Two belief intervals of different clients overlap when max(start) < min(end): sharing
// a single instant is a hand-over, not an overlap.
bool overlap(const BeliefInterval& a, const BeliefInterval& b);

// "mutual-exclusion": no two clients' belief intervals overlap.
Verdict check_mutual_exclusion(const History& h);

struct LivenessInput {
  int clients = 0;                          // clients 0 .. clients-1 ran the workload
  int cycles = 0;                           // cycles each had to complete
  bool faults = false;                      // faults were injected
  std::vector<std::string> leftover_nodes;  // lock nodes left after every session closed
  Time end{0};                              // true time at the end of the run
};

// "liveness", for runs without faults: every client acquired the lock in every one of
// its cycles and finished, no acquire failed, and no lock node was left once all clients
// closed their sessions. With faults injected a fault may legitimately stall a client,
// so the verdict is ok with the summary "not applicable: faults injected"; callers may
// equally leave it out. (Liveness after a nemesis' quiet phase is a separate checker.)
Verdict check_liveness(const History& h, const LivenessInput& in);

// True time as seconds with 6 decimals ("1.002100s"), the checkers' unit in details.
std::string format_instant(Time t);

}  // namespace lockstep
