// A fault whose time counts from an event of the run, as a narrative says it ("500 ms
// after client 1's second grant"): the nth such event of `client`, or of any client. One
// home for the simulator's fault injector and the live runner, which both count the
// history's events as they come; sim/faults/trigger.h reads and writes the syntax.
#pragma once

#include <optional>

#include "core/history.h"

namespace lockstep {

struct FaultTrigger {
  EventKind event = EventKind::Acquired;
  int nth = 1;
  std::optional<int> client;
  bool operator==(const FaultTrigger&) const = default;
};

// Whether `e` counts towards the trigger: its kind, from its client (or from anyone).
inline bool trigger_matches(const FaultTrigger& t, const HistoryEvent& e) {
  return e.kind == t.event && e.client >= 0 && (!t.client || *t.client == e.client);
}

}  // namespace lockstep
