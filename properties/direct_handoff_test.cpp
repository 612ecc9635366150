// recipe's handoff=direct: a waiter whose last listing showed only its predecessor below
// it takes the lock on that node's Deleted notification, without a second listing, but
// only while the request that proved its session is recent (a notification alone proves
// nothing: docs/regressions/recipe-direct-mutual-exclusion-partition.json is the one-way
// partition that broke the first version).
//
// A direct grant shows in the trace as a client's "acquired" at the very instant of its
// own "watch" event: with relist the client always lists first, which takes a round trip
// of virtual time.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim/run.h"
#include "sim/scenario.h"

namespace lockstep {
namespace {

using namespace std::chrono_literals;

sim::Scenario queue_scenario(const std::string& handoff, Duration hold) {
  sim::Scenario s;
  s.algorithm = "recipe";
  s.options.set("handoff", handoff);
  s.clients = 8;
  s.seed = 3;
  s.session_timeout = 8s;
  s.workload.cycles = 4;
  s.workload.hold = hold;
  s.workload.think = 0ms;
  s.workload.acquire_timeout = 600s;
  s.duration = 3600s;
  return s;
}

std::string field(const std::string& line, const std::string& key) {
  const std::string tag = "\"" + key + "\":";
  const size_t at = line.find(tag);
  if (at == std::string::npos) return "";
  size_t from = at + tag.size();
  const bool quoted = line[from] == '"';
  if (quoted) ++from;
  const size_t end = line.find(quoted ? '"' : ',', from);
  return line.substr(from, end - from);
}

struct Grants {
  int total = 0;
  int on_the_notification = 0;  // "acquired" at the time of the same client's "watch"
};

Grants count_grants(const std::vector<std::string>& trace) {
  Grants g;
  std::string last_watch_src, last_watch_t;
  for (const std::string& line : trace) {
    const std::string ev = field(line, "ev"), src = field(line, "src"), t = field(line, "t");
    if (src.rfind("client ", 0) != 0) continue;
    if (ev == "watch") {
      last_watch_src = src;
      last_watch_t = t;
    } else if (ev == "acquired") {
      ++g.total;
      if (src == last_watch_src && t == last_watch_t) ++g.on_the_notification;
    }
  }
  return g;
}

sim::RunResult run(const sim::Scenario& s) {
  sim::RunResult r = sim::run_scenario(s, sim::RunOptions{});
  for (const auto& v : r.verdicts) EXPECT_TRUE(v.ok) << v.checker << ": " << v.summary;
  EXPECT_TRUE(r.all_clients_done);
  return r;
}

TEST(DirectHandoff, RelistAlwaysListsAgainBeforeTheGrant) {
  const Grants g = count_grants(run(queue_scenario("relist", 0ms)).trace);
  EXPECT_EQ(g.total, 32);
  EXPECT_EQ(g.on_the_notification, 0);
}

TEST(DirectHandoff, AQueueOfEightHandsOverOnTheNotification) {
  const Grants g = count_grants(run(queue_scenario("direct", 0ms)).trace);
  EXPECT_EQ(g.total, 32);
  // Every handoff but the first of each waiter's wait could be direct; the race between
  // the predecessor's delete and the early listing decides each one. Most must be.
  EXPECT_GE(g.on_the_notification, 16);
}

TEST(DirectHandoff, AStaleProofListsAgain) {
  // Each hold is 3 s, far past a quarter of the 8 s session: by the time the predecessor
  // goes, the waiter's last answered request is too old to vouch for its session.
  const Grants g = count_grants(run(queue_scenario("direct", 3s)).trace);
  EXPECT_EQ(g.total, 32);
  EXPECT_EQ(g.on_the_notification, 0);
}

TEST(DirectHandoff, DirectCostsOneMoreNotificationAndRequestPerRelease) {
  // The price of the early listing: the node two ahead is watched too.
  const sim::RunResult relist = run(queue_scenario("relist", 0ms));
  const sim::RunResult direct = run(queue_scenario("direct", 0ms));
  ASSERT_EQ(relist.releases, direct.releases);
  const double per = static_cast<double>(relist.releases);
  EXPECT_LE(static_cast<double>(relist.stats.watch_notifications) / per, 1.0);
  EXPECT_LE(static_cast<double>(direct.stats.watch_notifications) / per, 2.0);
  EXPECT_GT(direct.stats.watch_notifications, relist.stats.watch_notifications);
  EXPECT_LE(static_cast<double>(direct.store_requests) / per,
            static_cast<double>(relist.store_requests) / per + 1.5);
}

}  // namespace
}  // namespace lockstep
