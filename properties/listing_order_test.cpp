// The simulated server lists a node's children as ZooKeeper does: in no particular
// order (ZooKeeper keeps them in a Java HashSet), not sorted by name. The order is drawn
// from the seed, so the same seed lists alike; and it is a stream of its own, so drawing
// it moves no other draw of the run.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "core/store.h"
#include "sim/network.h"
#include "sim/process.h"
#include "sim/world.h"
#include "sim/zk/client.h"
#include "sim/zk/server.h"

namespace lockstep::sim {
namespace {

using namespace std::chrono_literals;

// One server, one client that creates `count` sequential children under /q and lists
// them; returns the listing as the client saw it.
std::vector<std::string> listing(uint64_t seed, int count) {
  World world(seed, /*keep_trace=*/false);
  Network network(world, NetworkSpec{});
  Process server_process(world, -1, "server", 7);
  ZkServer server(world, network, server_process, ServerSpec{}, "server", 0);
  server.start();
  ClientStats stats;
  SimStore store(network, server, &stats);
  Process client(world, 0, "client 0", 100);
  std::vector<std::string> seen;
  client.spawn([](Store& store, Env& env, int count, std::vector<std::string>& seen) -> Task<void> {
    ConnectReply c = co_await store.connect(env, 4s);
    EXPECT_EQ(c.err, Error::Ok);
    if (c.err != Error::Ok) co_return;
    co_await c.session->create("/q", "", CreateMode::Persistent);
    for (int i = 0; i < count; ++i)
      co_await c.session->create("/q/n-", "", CreateMode::EphemeralSequential);
    ChildrenReply r = co_await c.session->children("/q");
    EXPECT_EQ(r.err, Error::Ok);
    seen = r.children;
    co_await c.session->close();
  }(store, client, count, seen));
  world.run(Time(60s), nullptr);
  return seen;
}

TEST(ListingOrder, ChildrenComeBackUnsortedButComplete) {
  const std::vector<std::string> got = listing(1, 30);
  ASSERT_EQ(got.size(), 30u);
  std::vector<std::string> sorted = got;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_NE(got, sorted) << "30 names should not come back in name order";
  EXPECT_EQ(std::adjacent_find(sorted.begin(), sorted.end()), sorted.end()) << "no duplicates";
  EXPECT_EQ(sorted.front(), "n-0000000000");
  EXPECT_EQ(sorted.back(), "n-0000000029");
}

TEST(ListingOrder, SameSeedSameOrderOtherSeedOtherOrder) {
  EXPECT_EQ(listing(5, 20), listing(5, 20));
  EXPECT_NE(listing(5, 20), listing(6, 20));
}

}  // namespace
}  // namespace lockstep::sim
