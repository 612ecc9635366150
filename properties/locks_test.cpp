// The lock algorithms in the simulator with no faults: they must keep mutual exclusion
// and (all but zk-fast, whose documented hole can hang a waiter) liveness for 1 to 16
// clients; recipe's tokens must follow grant order; and the herd effect must show in
// the watch notifications.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "core/check/checker.h"
#include "core/lock.h"
#include "sim/run.h"
#include "sim/scenario.h"

namespace lockstep {
namespace {

using std::chrono::milliseconds;

sim::Scenario scenario(const std::string& algorithm, int clients, uint64_t seed, int cycles = 10) {
  sim::Scenario s;
  s.algorithm = algorithm;
  s.clients = clients;
  s.seed = seed;
  s.workload.cycles = cycles;
  s.workload.hold = milliseconds(5);
  s.workload.think = milliseconds(1);
  s.workload.acquire_timeout = std::chrono::seconds(30);
  s.duration = std::chrono::seconds(120);
  return s;
}

std::string describe(const Verdict& v) {
  std::string out = v.checker + ": " + v.summary;
  for (size_t i = 0; i < v.details.size() && i < 5; ++i) out += "\n  " + v.details[i];
  return out;
}

LivenessInput liveness_input(const sim::Scenario& s, const sim::RunResult& r) {
  LivenessInput in;
  in.clients = s.clients;
  in.cycles = s.workload.cycles;
  in.faults = false;
  in.leftover_nodes = r.leftover;
  in.end = Time(r.stats.virtual_time);
  return in;
}

const int kClientCounts[] = {1, 2, 3, 5, 8, 16};

TEST(LocksCatalogue, FixedOrderAndLookup) {
  std::vector<std::string> names;
  for (const auto& a : algorithms()) names.push_back(a.name);
  ASSERT_GE(names.size(), 4u);
  EXPECT_EQ(std::vector<std::string>(names.begin(), names.begin() + 4),
            (std::vector<std::string>{"zk-slow", "zk-fast", "zk-fast-pred", "recipe"}));
  for (const auto& a : algorithms()) {
    EXPECT_EQ(&resolve_algorithm(a.name), &a);
    EXPECT_FALSE(a.summary.empty()) << a.name;
    EXPECT_TRUE(a.make) << a.name;
  }
  try {
    resolve_algorithm("no-such-lock");
    ADD_FAILURE() << "no-such-lock resolved";
  } catch (const UnknownAlgorithm& e) {
    EXPECT_EQ(e.name, "no-such-lock");
    EXPECT_EQ(
        std::string(e.what()).rfind(R"(unknown algorithm "no-such-lock" (known: zk-slow, )", 0), 0u)
        << e.what();
  }
  EXPECT_TRUE(resolve_algorithm("recipe").has_fencing_token);
  EXPECT_FALSE(resolve_algorithm("zk-slow").has_fencing_token);
  EXPECT_FALSE(resolve_algorithm("zk-fast").has_fencing_token);
  EXPECT_FALSE(resolve_algorithm("zk-fast-pred").has_fencing_token);
}

class LocksNoFaults : public ::testing::TestWithParam<std::string> {};

TEST_P(LocksNoFaults, MutualExclusionAndLivenessHold) {
  for (int clients : kClientCounts) {
    for (uint64_t seed : {1u, 2u}) {
      SCOPED_TRACE(GetParam() + " clients=" + std::to_string(clients) +
                   " seed=" + std::to_string(seed));
      sim::Scenario s = scenario(GetParam(), clients, seed);
      sim::RunResult r = sim::run_scenario(s, {.keep_trace = false});
      Verdict me = check_mutual_exclusion(r.history);
      EXPECT_TRUE(me.ok) << describe(me);
      Verdict live = check_liveness(r.history, liveness_input(s, r));
      EXPECT_TRUE(live.ok) << describe(live);
      EXPECT_TRUE(r.all_clients_done);
      EXPECT_EQ(r.acquisitions, int64_t{clients} * s.workload.cycles);
      // The run's own verdicts are these checkers' too.
      EXPECT_TRUE(r.ok());
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Locks, LocksNoFaults,
                         ::testing::Values("zk-slow", "zk-fast-pred", "recipe"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (auto& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

TEST(LocksZkFast, MutualExclusionHoldsWithoutFaults) {
  for (int clients : kClientCounts) {
    for (uint64_t seed : {1u, 2u}) {
      SCOPED_TRACE("clients=" + std::to_string(clients) + " seed=" + std::to_string(seed));
      sim::Scenario s = scenario("zk-fast", clients, seed);
      s.workload.acquire_timeout = std::chrono::seconds(2);
      sim::RunResult r = sim::run_scenario(s, {.keep_trace = false});
      Verdict me = check_mutual_exclusion(r.history);
      EXPECT_TRUE(me.ok) << describe(me);
      // Even a waiter that hung gives up at its deadline and takes its node away.
      EXPECT_TRUE(r.all_clients_done);
      EXPECT_TRUE(r.leftover.empty());
    }
  }
}

TEST(LocksZkFast, OneClientIsLive) {
  sim::Scenario s = scenario("zk-fast", 1, 1);
  sim::RunResult r = sim::run_scenario(s, {.keep_trace = false});
  Verdict live = check_liveness(r.history, liveness_input(s, r));
  EXPECT_TRUE(live.ok) << describe(live);
}

// The document's hole, without any fault: the predecessor `request-<n-1>` is released
// between our children listing and our exists; exists says "no node", and the watch it
// leaves is one for a creation that never comes. The waiter hangs until its deadline.
TEST(LocksZkFast, WaiterCanHangWithoutFaults) {
  int hung_runs = 0;
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    // Two clients: the waiter is nearly always right behind the holder, so the window
    // between its listing and its exists is often open when the holder releases.
    sim::Scenario s = scenario("zk-fast", 2, seed);
    s.workload.acquire_timeout = std::chrono::seconds(2);
    sim::RunResult r = sim::run_scenario(s, {.keep_trace = false});
    bool timed_out = false;
    for (const auto& e : r.history.events())
      timed_out |= e.kind == EventKind::AcquireFailed && e.detail == "timeout";
    if (timed_out) {
      ++hung_runs;
      EXPECT_FALSE(check_liveness(r.history, liveness_input(s, r)).ok);
    }
    // The true-predecessor variant on the same schedule never hangs.
    s.algorithm = "zk-fast-pred";
    sim::RunResult fixed = sim::run_scenario(s, {.keep_trace = false});
    Verdict live = check_liveness(fixed.history, liveness_input(s, fixed));
    EXPECT_TRUE(live.ok) << "seed " << seed << ": " << describe(live);
  }
  EXPECT_GT(hung_runs, 0) << "no zk-fast waiter hung in 10 seeds";
}

TEST(LocksRecipe, TokensIncreaseInGrantOrder) {
  for (int clients : {2, 5, 16}) {
    SCOPED_TRACE("clients=" + std::to_string(clients));
    sim::Scenario s = scenario("recipe", clients, 7);
    sim::RunResult r = sim::run_scenario(s, {.keep_trace = false});
    auto beliefs = belief_intervals(r.history);
    ASSERT_EQ(beliefs.size(), static_cast<size_t>(clients * s.workload.cycles));
    std::set<uint64_t> seen;
    uint64_t last = 0;
    for (const auto& b : beliefs) {
      ASSERT_TRUE(b.token.has_value()) << "client " << b.client;
      EXPECT_GT(*b.token, last) << "client " << b.client << " at " << format_instant(b.start);
      EXPECT_TRUE(seen.insert(*b.token).second);
      last = *b.token;
    }
  }
}

TEST(LocksRecipe, NoLostSignalWithoutFaults) {
  sim::Scenario s = scenario("recipe", 5, 3);
  sim::RunResult r = sim::run_scenario(s, {.keep_trace = false});
  for (const auto& e : r.history.events()) EXPECT_NE(e.kind, EventKind::LostObserved);
}

TEST(LocksNoToken, PortsWithoutTokenGiveNone) {
  for (const char* name : {"zk-slow", "zk-fast", "zk-fast-pred"}) {
    sim::Scenario s = scenario(name, 2, 1, 3);
    sim::RunResult r = sim::run_scenario(s, {.keep_trace = false});
    for (const auto& e : r.history.events())
      if (e.kind == EventKind::Acquired) {
        EXPECT_FALSE(e.token.has_value()) << name;
      }
  }
}

// Watch notifications per release with every client contending: zk-slow wakes every
// waiter (about N-1), the predecessor watchers wake one at most.
double notifications_per_release(const std::string& algorithm, int clients) {
  sim::Scenario s = scenario(algorithm, clients, 11, 20);
  s.workload.think = milliseconds(0);
  sim::RunResult r = sim::run_scenario(s, {.keep_trace = false});
  EXPECT_TRUE(r.ok()) << algorithm;
  EXPECT_GT(r.releases, 0);
  return static_cast<double>(r.stats.watch_notifications) /
         static_cast<double>(std::max<int64_t>(1, r.releases));
}

TEST(LocksHerd, SlowWakesEveryWaiterFastWakesOne) {
  const int n = 8;
  double slow = notifications_per_release("zk-slow", n);
  EXPECT_GE(slow, 0.8 * (n - 1)) << slow;
  EXPECT_LE(slow, n - 1 + 0.01) << slow;
  for (const char* name : {"zk-fast-pred", "recipe"}) {
    double one = notifications_per_release(name, n);
    EXPECT_LE(one, 1.0) << name << ": " << one;
    EXPECT_GE(one, 0.8) << name << ": " << one;
  }
}

}  // namespace
}  // namespace lockstep
