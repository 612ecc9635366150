// What a simulated run needs in memory at its peak, estimated before it starts, so that a
// scenario too big for the machine is refused up front instead of killed by the kernel
// halfway through. A function of the scenario alone (sim/ reads nothing of the machine);
// the command that runs it (cli/memory_guard.h) compares it with what the machine has.
#pragma once

#include <cstdint>

#include "sim/scenario.h"

namespace lockstep::sim {

struct MemoryEstimate {
  uint64_t bytes = 0;
  // False for an algorithm with no measurement of its own: it is charged the largest
  // per-client figure of those measured.
  bool measured = true;
};

// Base + clients x the algorithm's measured peak bytes per client (one cycle, a herd,
// peak RSS at 10,000 clients; docs/scenario.md) + clients^2 x its bytes per pair where
// its memory grows with the square (etcd-session: every waiter learns every key's
// revision) + the history of every further cycle; with `keep_trace`, the trace's lines
// too. Saturates instead of overflowing.
MemoryEstimate estimate_memory(const Scenario& s, bool keep_trace);

}  // namespace lockstep::sim
