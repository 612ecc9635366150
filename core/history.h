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
  ClientStart,     // the client process started its workload (again, after a restart)
  AcquireStart,
  Acquired,        // token, if the lease has one
  AcquireFailed,   // detail: the library's error
  LostObserved,    // the algorithm signalled the lease lost
  ReleaseStart,
  Released,        // detail: release error, if any
  ResourceRead,    // value, token
  ResourceWrite,   // value, token, accepted
  SessionChange,   // detail: session event name
  ClientDone,      // finished every cycle
  ClientCrashed,
  Fault,           // detail: the fault; client: -1 for server-side faults
  Note,            // anything else worth seeing in a trace
};
std::string_view event_kind_name(EventKind k);

struct HistoryEvent {
  Time lo{0};  // true time: the event happened in [lo, hi]
  Time hi{0};
  int client = -1;
  EventKind kind = EventKind::Note;
  std::optional<uint64_t> token;
  std::optional<int64_t> value;
  bool accepted = false;
  std::string detail;
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

// Where a client's workload records events; the runtime stamps the time.
class Recorder {
 public:
  virtual ~Recorder() = default;
  virtual void record(HistoryEvent e) = 0;  // e.lo/e.hi are filled in by the recorder
};

}  // namespace lockstep
