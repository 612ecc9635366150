// The herd effect, exactly, from the simulator's counters: a release wakes every waiter
// under zk-slow and exactly one under zk-fast, zk-fast-pred and recipe.
//
// The scenario makes the count exact. N clients, one cycle each, a 1 s hold and no think
// time: every client has created its node (or tried to) and set its watch a few
// milliseconds after the start, long before the first release at about 1 s, and no
// waiter gives up. So release k (k = 1..N) happens with N-k clients still waiting, and
// ZooKeeper's semantics give, for that release:
//   zk-slow: N-k notifications. Every waiter holds an exists watch on the one lock node;
//     the delete fires all of them. The woken race to create it again; the winner holds
//     (for 1 s) and the N-k-1 losers meet NodeExists and set their watch again before
//     the next release. The first release (N-1 waiters) delivers N-1, the whole run
//     sum_{k=1..N} (N-k) = N(N-1)/2.
//   zk-fast, zk-fast-pred, recipe: min(1, N-k). Each waiter watches only the node just
//     ahead of it, so a delete fires one watch, and none once nobody waits. The first
//     release delivers 1, the whole run N-1.
// Release k happens between k and k + 0.35 s of virtual time (k holds of 1 s plus k
// handoffs of at most a few milliseconds each), so a run cut at k + 0.5 s has delivered
// exactly the notifications of releases 1..k.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim/run.h"
#include "sim/scenario.h"

namespace lockstep {
namespace {

using namespace std::chrono_literals;

const int kContenders[] = {2, 4, 8, 16, 32};

sim::Scenario herd_scenario(const std::string& algorithm, int n) {
  sim::Scenario s;
  s.algorithm = algorithm;
  s.clients = n;
  s.seed = 7;
  s.workload.cycles = 1;
  s.workload.hold = 1s;
  s.workload.think = 0ms;
  s.workload.acquire_timeout = 600s;
  s.duration = 3600s;
  return s;
}

sim::RunResult run_until(sim::Scenario s, Duration end) {
  s.duration = end;
  sim::RunOptions opt;
  opt.keep_trace = false;
  return sim::run_scenario(s, opt);
}

bool herd(const std::string& algorithm) { return algorithm == "zk-slow"; }

// Notifications release k delivers (1-based) with N contenders, as derived above.
int64_t expected_for_release(const std::string& algorithm, int n, int k) {
  const int waiting = n - k;
  return herd(algorithm) ? waiting : std::min(1, waiting);
}

class Herd : public ::testing::TestWithParam<std::string> {};

TEST_P(Herd, WholeRunTotals) {
  const std::string algorithm = GetParam();
  for (int n : kContenders) {
    sim::Scenario s = herd_scenario(algorithm, n);
    sim::RunResult r = sim::run_scenario(s, {false});
    ASSERT_TRUE(r.all_clients_done) << algorithm << " N=" << n;
    ASSERT_EQ(r.releases, n) << algorithm << " N=" << n;
    const int64_t expected = herd(algorithm) ? int64_t{n} * (n - 1) / 2 : int64_t{n} - 1;
    EXPECT_EQ(r.stats.watch_notifications, expected) << algorithm << " N=" << n;
  }
}

TEST_P(Herd, EveryReleaseWakesWhatTheSemanticsSay) {
  const std::string algorithm = GetParam();
  for (int n : kContenders) {
    const sim::Scenario s = herd_scenario(algorithm, n);
    int64_t before = 0;
    for (int k = 1; k <= n; ++k) {
      const sim::RunResult r = run_until(s, k * 1s + 500ms);
      const sim::RunStats& st = r.stats;
      ASSERT_EQ(r.releases, k) << algorithm << " N=" << n << ": cut at release " << k;
      const int64_t delivered = st.watch_notifications - before;
      EXPECT_EQ(delivered, expected_for_release(algorithm, n, k))
          << algorithm << " N=" << n << " release " << k;
      before = st.watch_notifications;
    }
  }
}

// The statement itself: with N-1 clients queued, one release delivers N-1
// notifications under zk-slow and 1 under the others.
TEST_P(Herd, FirstReleaseWithNMinusOneQueued) {
  const std::string algorithm = GetParam();
  for (int n : kContenders) {
    const sim::RunResult r = run_until(herd_scenario(algorithm, n), 1500ms);
    const sim::RunStats& st = r.stats;
    ASSERT_EQ(r.releases, 1) << algorithm << " N=" << n;
    EXPECT_EQ(st.watch_notifications, herd(algorithm) ? n - 1 : 1) << algorithm << " N=" << n;
  }
}

INSTANTIATE_TEST_SUITE_P(Algorithms, Herd,
                         ::testing::Values("zk-slow", "zk-fast", "zk-fast-pred", "recipe"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name)
                             if (c == '-') c = '_';
                           return name;
                         });

}  // namespace
}  // namespace lockstep
