// The checkers: verdicts computed from the history alone, never from an algorithm's own
// word. Each returns a Verdict naming itself, whether it held, a one-line summary and
// one line per offending detail.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/history.h"
#include "core/time.h"

namespace lockstep {

struct Verdict {
  std::string checker;
  bool ok = true;
  std::string summary;
  std::vector<std::string> details;
  // The clients that the violations listed in `details` involve, ascending and
  // distinct (empty when it holds): what a counterexample's explanation names.
  std::vector<int> clients;
};

// Adds `client` to v.clients, keeping them ascending and distinct.
void name_client(Verdict& v, int client);

// The verdict of a checker that cannot judge the history because event `index` lacks
// `field`, which the recorders always set: a recording bug, reported as a failure
// ("INTERNAL ERROR: ...") rather than judged by a weaker rule.
Verdict missing_field(std::string checker, const History& h, size_t index, std::string_view field);

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
  // that moment. For overlaps it extends without bound: two clients that both still
  // believe at the end overlap even if one acquired at the history's very last instant.
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

// Where a belief certainly ends, for overlaps: `end`, or never for an open one.
Time effective_end(const BeliefInterval& b);

// Two belief intervals of different clients overlap when max(start) < min(end) (with
// effective ends): sharing a single instant is a hand-over, not an overlap.
bool overlap(const BeliefInterval& a, const BeliefInterval& b);

// A ResourceWrite's moment as a report names it, saying which of its times it is:
// "applied at T" when the store's apply time is known (the simulator), else "completed at
// T" (lo). write_times() adds the issue time when known: "issued at I, applied at A".
std::string write_when(const HistoryEvent& write);
std::string write_times(const HistoryEvent& write);

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

// "fencing", for runs with a resource: the tokens of accepted resource writes never
// decrease in the store's order, and no write of an older holder is accepted after a
// newer holder's. The store's order is the writes' zxids (exact in both worlds, unlike
// reply times, which a paused client can receive long after the write applied); a write
// without an outcome, or an accepted one without a zxid, is a recording bug and fails
// the check (missing_field). Writes carrying tokens are compared by token. A write
// without one (an algorithm without a token, fencing "none") is compared by grant: its
// holder's Acquired event against those of the writes before it, in true-time order.
Verdict check_fencing(const History& h);

struct LostUpdateInput {
  // The counter read from the store at the end of the run; nullopt if the resource
  // node does not exist (nobody ever read it: counted as 0).
  std::optional<int64_t> final_value;
  // Set when the node exists but could not be read or parsed: the check cannot be made.
  std::string final_error;
};

// "lost-update", for runs with a resource: the final counter equals the number of
// accepted increments (each accepted ResourceWrite is one). A write whose outcome is
// unknown may or may not have counted, so the final value must lie in [accepted,
// accepted + unknown]. Unknown: a write whose reply was lost, and a read not followed by
// its write, lost signal or release before the client crashed or the history ended (the
// write may have been on its way). Below: increments were lost (the details name the
// accepted writes that wrote the same value: they read the same counter). Above:
// increments appeared that no accepted write explains. A write without an outcome fails
// the check (missing_field).
Verdict check_lost_update(const History& h, const LostUpdateInput& in);

// "renewal", for runs whose lock reported renewals of its leases (Lease::renewals): a
// renewal that succeeded says the lease was held without a break since its grant, so
// none may succeed whose start certainly came after another client's grant that
// certainly came after this lease's (a lock that lost the lease and took it again
// unseen, say). Renewals begun before that other grant are not judged: their success
// may have been true when it happened.
Verdict check_renewal(const History& h);

// "token-sanity", for runs where some grant carries a token: distinct grants have
// distinct tokens, and tokens grow in grant order. A grant happened somewhere between its
// AcquireStart and its Acquired; a grant with a lower token is a violation only when
// that whole span comes after a grant with a higher token (so a client paused between
// the server's grant and its own Acquired event is not blamed). Grants without a token
// are skipped.
Verdict check_token_sanity(const History& h);

struct QuietLivenessInput {
  int clients = 0;                          // clients 0 .. clients-1 ran the workload
  Time quiet_from{0};                       // no fault is active from here on
  Duration settle{0};                       // grace after quiet_from before waits are timed
  Duration wait_bound{0};                   // the longest one acquire may wait once settled
  std::vector<std::string> leftover_nodes;  // lock nodes left after every session closed
  Time end{0};                              // true time at the end of the run
};

// "liveness-after-quiet", for runs with faults: once the faults have stopped and the
// system has had `settle` to recover (settled = quiet_from + settle),
//   - every acquire waiting at `settled` or started later is granted within wait_bound
//     (counted from max(its start, settled));
//   - no acquire fails after `settled`;
//   - no client is stuck: unfinished at the end with nothing recorded in the last
//     wait_bound (a client still making progress when the run's duration ran out is
//     mentioned in the summary, not blamed);
//   - once every client finished, no lock node is left.
// Clients that crashed for good (no restart) are exempt. If the run ended before
// `settled` with clients still at work, nothing can be said yet: ok, "not applicable".
Verdict check_liveness_after_quiet(const History& h, const QuietLivenessInput& in);

// True time as seconds with 6 decimals ("1.002100s"), the checkers' unit in details.
std::string format_instant(Time t);

}  // namespace lockstep
