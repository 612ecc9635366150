// A resource write carries three times (issue 18 item 6): when the writer issued it, when
// the store applied it, and when it completed. A holder paused while its write is in
// flight has the write applied at once and its reply read only when it resumes; the
// history keeps both (the checkers' messages name the apply time: fencing_checker_test).
#include <gtest/gtest.h>

#include <string>

#include "core/check/checker.h"
#include "sim/run.h"
#include "sim/scenario.h"

namespace lockstep {
namespace {

using std::chrono::milliseconds;

// Two clients, an unfenced resource and a fixed 5 ms one-way delay. The critical section
// starts at the grant and its write (a set) leaves 1 s later (half the hold): the holder is
// paused 1007 ms after its grant, after the set reached the server (1005 ms) and before
// its reply came back (1010 ms).
const char* kPausedInFlight = R"({
  "algorithm": "zk-slow", "seed": 1, "clients": 2, "session_timeout": "2s",
  "network": { "latency": { "min": "5ms", "max": "5ms" } },
  "workload": { "cycles": 1, "hold": "2s", "think": "10ms", "acquire_timeout": "60s" },
  "resource": { "fenced": false, "store": "separate" },
  "faults": [ { "kind": "pause", "client": "holder", "at": "acquired+1007ms", "for": "9s" } ],
  "duration": "60s"
})";

TEST(WriteTimes, EverySimulatedWriteHasItsThreeTimesInOrder) {
  const sim::RunResult r = sim::run_scenario(sim::parse_scenario(kPausedInFlight));
  int accepted = 0;
  for (const auto& e : r.history.events()) {
    if (e.kind != EventKind::ResourceWrite) continue;
    ASSERT_TRUE(e.issued) << e.detail;
    EXPECT_LE(*e.issued, e.lo);
    if (!e.accepted()) continue;
    ++accepted;
    ASSERT_TRUE(e.applied) << "an accepted write in the simulator knows when it applied";
    EXPECT_LE(*e.issued, *e.applied);
    EXPECT_LE(*e.applied, e.lo);
  }
  EXPECT_EQ(accepted, 2);
}

TEST(WriteTimes, AWriteInFlightDuringAPauseAppliesBeforeItCompletes) {
  const sim::RunResult r = sim::run_scenario(sim::parse_scenario(kPausedInFlight));
  const HistoryEvent* paused_write = nullptr;
  for (const auto& e : r.history.events())
    if (e.kind == EventKind::ResourceWrite && e.accepted() && e.applied &&
        e.lo - *e.applied > std::chrono::seconds(5))
      paused_write = &e;
  ASSERT_NE(paused_write, nullptr) << "the paused holder's write applied 9 s before it completed";
  // Applied 5 ms after it was issued; completed only when the pause ended.
  EXPECT_EQ(*paused_write->applied - *paused_write->issued, milliseconds(5));
}

}  // namespace
}  // namespace lockstep
