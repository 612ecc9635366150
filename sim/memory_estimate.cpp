#include "sim/memory_estimate.h"

#include <algorithm>
#include <string_view>

namespace lockstep::sim {

namespace {

struct Footprint {
  std::string_view algorithm;
  uint64_t per_client = 0;  // bytes
  uint64_t per_pair = 0;    // bytes per (client, client)
};

// Peak RSS / clients of `lockstep run` on a herd (one cycle each, hold 1ms, think 0,
// acquire_timeout and duration 3600s, session_timeout 30s), /usr/bin/time, rounded up:
// at N = 10,000 recipe 606 MB, zk-fast-pred 485 MB, zk-ttl 1,189 MB; zk-slow (21 MB) and
// etcd-session (832 MB, per pair) at N = 1,000. docs/scenario.md has the command.
constexpr Footprint kMeasured[] = {
    {.algorithm = "recipe", .per_client = 64 * 1024},
    {.algorithm = "zk-fast-pred", .per_client = 52 * 1024},
    {.algorithm = "zk-fast", .per_client = 52 * 1024},
    {.algorithm = "zk-ttl", .per_client = 120 * 1024},
    {.algorithm = "zk-slow", .per_client = 24 * 1024},
    {.algorithm = "etcd-session", .per_client = 64 * 1024, .per_pair = 900},
};
constexpr uint64_t kBase = 16ull << 20;       // an empty run's RSS, with margin
constexpr uint64_t kHistoryPerCycle = 1024;   // a client's cycle in the history
constexpr uint64_t kTracePerCycle = 2048;     // and in a kept trace
constexpr uint64_t kTracePerPairCycle = 400;  // a herd's notifications in a kept trace

uint64_t sat_add(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }
uint64_t sat_mul(uint64_t a, uint64_t b) {
  return a != 0 && b > UINT64_MAX / a ? UINT64_MAX : a * b;
}

}  // namespace

MemoryEstimate estimate_memory(const Scenario& s, bool keep_trace) {
  MemoryEstimate out;
  Footprint f{.algorithm = s.algorithm};
  auto it = std::find_if(std::begin(kMeasured), std::end(kMeasured),
                         [&](const Footprint& m) { return m.algorithm == s.algorithm; });
  if (it != std::end(kMeasured)) {
    f = *it;
  } else {
    out.measured = false;
    for (const Footprint& m : kMeasured) f.per_client = std::max(f.per_client, m.per_client);
  }
  const uint64_t n = static_cast<uint64_t>(std::max(s.clients, 0));
  const uint64_t cycles = static_cast<uint64_t>(std::max(s.workload.cycles, 1));
  uint64_t bytes = kBase;
  bytes = sat_add(bytes, sat_mul(n, f.per_client));
  bytes = sat_add(bytes, sat_mul(sat_mul(n, n), f.per_pair));
  bytes = sat_add(bytes, sat_mul(sat_mul(n, cycles - 1), kHistoryPerCycle));
  if (keep_trace) {
    bytes = sat_add(bytes, sat_mul(sat_mul(n, cycles), kTracePerCycle));
    if (f.per_pair > 0 || s.algorithm == "zk-slow")
      bytes = sat_add(bytes, sat_mul(sat_mul(sat_mul(n, n), cycles), kTracePerPairCycle));
  }
  out.bytes = bytes;
  return out;
}

}  // namespace lockstep::sim
