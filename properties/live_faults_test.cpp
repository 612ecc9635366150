// The live network and clock faults (issue 17): done for real on client processes and
// judged as the simulator judges the same scenario. Clock faults need libfaketime; the
// tests that need it, or LOCKSTEP_ZK, are skipped without them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "properties/live_harness.h"
#include "real/fake_clock.h"

namespace lockstep::real {
namespace {

using namespace std::chrono_literals;

class LiveFaults : public LiveRunner {
 protected:
  void SetUp() override {
    LiveRunner::SetUp();
    if (IsSkipped()) return;
    scenario_ =
        ::testing::TempDir() + "lockstep-live-faults-" + std::to_string(::getpid()) + ".json";
  }
  void TearDown() override {
    std::remove(scenario_.c_str());
    LiveRunner::TearDown();
  }
  void need_fake_clocks() {
    if (const std::string why = FakeClocks::why_not(); !why.empty()) GTEST_SKIP() << why;
  }
  // The scenario in a file, for `lockstep run` and `lockstep live` alike.
  const std::string& scenario(const std::string& json) {
    std::ofstream(scenario_) << json;
    return scenario_;
  }
  // `lockstep run FILE`: the simulator's verdicts on the same scenario.
  Outcome simulate(const std::string& path) {
    Outcome o;
    std::tie(o.status, o.out) = run_program(lockstep_binary(), {"run", path}, {}, 60s);
    std::istringstream lines(o.out);
    std::string line;
    while (std::getline(lines, line)) {
      std::istringstream words(line);
      std::string name, word;
      words >> name >> word;
      if (word == "PASS" || word == "FAIL") o.verdicts[name] = word == "PASS";
    }
    return o;
  }
  std::string zk() const { return std::string("zk:") + zk_address(); }

  std::string scenario_;
};

// A lease lock whose waiter's clock runs 50% fast from 500 ms on: the waiter reads the
// holder's lease as over about 4.5 s in, while the holder (holding for 7 s, refreshing
// every 500 ms) still holds, and steals the lock. (At 500 ms, the second client is
// waiting even on a loaded machine; a fault with no waiter to name would be skipped.) The simulator says so for the scenario,
// and so does a live run, whose waiter process really runs on libfaketime's clock.
TEST_F(LiveFaults, LeaseFencedWithAWaiterClockFiftyPercentFastBreaksMutualExclusion) {
  need_fake_clocks();
  const std::string& path = scenario(R"({"algorithm": "lease-fenced",
      "options": {"lease": "2s", "heartbeat": "500ms", "warn_after": "1500ms",
                  "max_clock_skew": "200ms"},
      "clients": 2, "workload": {"cycles": 1, "hold": "7s"},
      "faults": [{"kind": "clock", "client": "waiter", "at": "500ms", "drift": "+50%"}]})");
  Outcome sim = simulate(path);
  EXPECT_EQ(sim.status, 1) << sim.out;
  EXPECT_FALSE(sim.passed("mutual-exclusion")) << sim.out;

  Outcome o = live({path, "--store", zk()}, zk_address());
  EXPECT_EQ(o.status, 1) << o.out;
  EXPECT_FALSE(o.passed("mutual-exclusion")) << o.out;
  EXPECT_EQ(count(o, "fault", -2, "clock: drift +50%"), 1) << o.out;
  EXPECT_EQ(count(o, "fault", -2, "scenario fault"), 0) << o.out;  // nothing skipped
}

// The same lock with its clocks true keeps mutual exclusion: the steal above is the clock's.
TEST_F(LiveFaults, LeaseFencedWithTrueClocksHolds) {
  Outcome o = live({"--store", zk(), "--algo", "lease-fenced", "--option", "lease=2s", "--option",
                    "heartbeat=500ms", "--option", "warn_after=1500ms", "--option",
                    "max_clock_skew=200ms", "--clients", "2", "--cycles", "1", "--hold", "2s"},
                   zk_address());
  EXPECT_EQ(o.status, 0) << o.out;
  EXPECT_TRUE(o.passed("mutual-exclusion")) << o.out;
}

// A jump: the waiter's clock steps 3 s ahead, past the holder's 2 s lease, and it takes
// the lock at once (the history's stamps, on the true clock, show the overlap).
TEST_F(LiveFaults, AWaiterClockJumpingAheadStealsALease) {
  need_fake_clocks();
  Outcome o = live({"--store",   zk(),
                    "--algo",    "lease-fenced",
                    "--option",  "lease=2s",
                    "--option",  "heartbeat=500ms",
                    "--option",  "warn_after=1500ms",
                    "--option",  "max_clock_skew=200ms",
                    "--clients", "2",
                    "--cycles",  "1",
                    "--hold",    "2s",
                    "--fault",   "clock:waiter:300ms:+3s"},
                   zk_address());
  EXPECT_EQ(o.status, 1) << o.out;
  EXPECT_FALSE(o.passed("mutual-exclusion")) << o.out;
  EXPECT_EQ(count(o, "fault", -2, "clock: jump +3s"), 1) << o.out;
  // The steal follows the jump within a poll or two, not after a lease on the true clock.
  double jumped = -1, second_grant = -1;
  int grants = 0;
  for (const auto& e : o.trace) {
    if (e.value("ev", "") == "fault") jumped = e.value("t", 0.0) / 1e9;
    if (e.value("ev", "") == "acquired" && ++grants == 2) second_grant = e.value("t", 0.0) / 1e9;
  }
  ASSERT_GE(jumped, 0) << o.out;
  EXPECT_LT(second_grant - jumped, 1.0) << o.out;
}

// Where a fault cannot be done it is refused before the run, never skipped: `local:` has
// no client processes whose clock could be faked. No server needed.
TEST(LiveFaultRefusal, AClockFaultOnLocalIsRefusedBeforeTheRun) {
  auto [status, out] = run_program(
      lockstep_binary(), {"live", "--store", "local:", "--fault", "clock:0:1s:+50%"}, {}, 30s);
  EXPECT_EQ(status, 2);
  EXPECT_EQ(out, "");  // no report: nothing ran
}

}  // namespace
}  // namespace lockstep::real
