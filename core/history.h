// The history: what each client did and observed, stamped with time the checkers can
// trust (true time in the simulator; a measured [lo, hi] interval in live runs). The
// checkers read only this, never the algorithm's word.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.h"

namespace lockstep {

enum class EventKind {
  ClientStart,  // the client process started its workload (again, after a restart)
  AcquireStart,
  Acquired,       // token, if the lease has one
  AcquireFailed,  // detail: the library's error
  LostObserved,   // the algorithm signalled the lease lost
  ReleaseStart,
  Released,       // detail: release error, if any
  ResourceRead,   // value, token
  ResourceWrite,  // value, token, outcome, zxid
  SessionChange,  // detail: session event name
  ClientDone,     // finished every cycle
  ClientCrashed,
  Fault,  // detail: the fault; client: -1 for server-side faults
  Note,   // anything else worth seeing in a trace
  // Last, so the numbers of the kinds above stay what they were (the live client's
  // messages carry them).
  RenewStart,  // the lock began a renewal of the lease; value: the renewal's number
  Renewed,     // that renewal succeeded (the lock's word: held since the grant)
};
std::string_view event_kind_name(EventKind k);

// How a resource write ended, as the store's replies told the writer.
enum class WriteOutcome {
  Accepted,  // the store applied it; the event's zxid is its place in the store's order
  Refused,   // fenced: its token was below the highest the resource had seen
  Unknown,   // the reply was lost (ConnectionLoss, OperationTimeout): it may have applied
  Failed,    // an error before anything was applied
};
std::string_view write_outcome_name(WriteOutcome o);
std::optional<WriteOutcome> parse_write_outcome(std::string_view name);

// A ResourceWrite's detail, derived from its fields in this one place so every history
// (and trace) words it alike: "zxid=N" when accepted, "refused: <reason>",
// "outcome unknown: <reason>", "failed: <reason>".
std::string write_detail(WriteOutcome outcome, std::optional<int64_t> zxid,
                         std::string_view reason);

struct HistoryEvent {
  Time lo{0};  // true time: the event happened in [lo, hi]
  Time hi{0};
  int client = -1;
  EventKind kind = EventKind::Note;
  std::optional<uint64_t> token;
  std::optional<int64_t> value;
  // ResourceWrite only: how it ended, and an accepted write's zxid. The checkers read
  // these; a write lacking them is a recording bug they report, never guess around.
  std::optional<WriteOutcome> outcome;
  std::optional<int64_t> zxid;
  // ResourceWrite only, its other two times (lo/hi is when it completed, the writer told
  // how it ended): when the writer issued it, and, for an accepted write, when the store
  // applied it (its moment in the store's order). A write held up in the network or behind
  // a pause can apply long before it completes, and one issued as a pause ends completes
  // after the writer was told its lease was lost. The simulator knows all three; a live run
  // knows no applied time (it lies in [issued, completed]).
  std::optional<Time> issued;
  std::optional<Time> applied;
  std::string detail;  // for people: a ResourceWrite's is write_detail() of the fields

  bool accepted() const { return outcome == WriteOutcome::Accepted; }
};

class History {
 public:
  void add(HistoryEvent e) { events_.push_back(std::move(e)); }
  const std::vector<HistoryEvent>& events() const { return events_; }
  std::vector<HistoryEvent>& events() { return events_; }
  void clear() { events_.clear(); }

 private:
  std::vector<HistoryEvent> events_;
};

enum class ClientRole { Holder, Waiter };
// The lowest-indexed client of [0, clients) whose latest events put it in `role` (it
// believes it holds the lock / it is waiting for it), or -1. Faults aimed at "holder" or
// "waiter" resolve with it, in the simulator and in live runs alike.
int client_in_role(const std::vector<HistoryEvent>& events, int clients, ClientRole role);

// client_in_role for a history that grows: each call reads only the events added since the
// last, so a run with thousands of faults aimed at "holder" does not read its whole
// history again for each.
class RoleTracker {
 public:
  explicit RoleTracker(int clients) : roles_(static_cast<size_t>(clients > 0 ? clients : 0)) {}
  int client_in_role(const std::vector<HistoryEvent>& events, ClientRole role);

 private:
  enum class Role : uint8_t { None, Holding, Waiting };
  std::vector<Role> roles_;
  size_t seen_ = 0;
};

// Where a client's workload records events; the runtime stamps the time.
class Recorder {
 public:
  virtual ~Recorder() = default;
  virtual void record(HistoryEvent e) = 0;  // e.lo/e.hi are filled in by the recorder
  // The time now on the clock the recorder stamps with (a write's issue time), or nothing
  // for a recorder that keeps none.
  virtual std::optional<Time> stamp() { return std::nullopt; }
};

}  // namespace lockstep
