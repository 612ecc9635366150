// The world's event order, (time, order of scheduling), holds across its two queues: the
// heap for later times and the FIFO for work posted at the current instant. And Work,
// what an event runs, keeps small callables in place and large ones on the heap, and
// destroys what it captured exactly once.
#include <gtest/gtest.h>

#include <array>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/prng.h"
#include "sim/id_table.h"
#include "sim/work.h"
#include "sim/world.h"

namespace lockstep::sim {
namespace {

using std::chrono::milliseconds;

TEST(WorldQueue, WorkPostedNowRunsAfterWhatWasAlreadyDueNow) {
  World world(1, false);
  std::vector<std::string> order;
  world.at(Time(milliseconds(5)), [&] {
    order.push_back("a");
    // Due now, but scheduled after b: runs after b.
    world.at(world.now(), [&] { order.push_back("c"); });
  });
  world.at(Time(milliseconds(5)), [&] {
    order.push_back("b");
    world.at(world.now(), [&] { order.push_back("d"); });
  });
  world.at(Time(milliseconds(7)), [&] { order.push_back("f"); });
  world.at(Time(milliseconds(6)), [&] { order.push_back("e"); });
  while (world.step()) {
  }
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b", "c", "d", "e", "f"}));
  EXPECT_EQ(world.events_run(), 6u);
}

TEST(WorldQueue, RunStopsAtTheLimitWithWorkStillDueNow) {
  World world(1, false);
  int ran = 0;
  world.at(Time(milliseconds(1)), [&] {
    ++ran;
    world.at(world.now(), [&] { ++ran; });
    world.at(Time(milliseconds(3)), [&] { ++ran; });
  });
  world.run(Time(milliseconds(2)), nullptr);
  EXPECT_EQ(ran, 2);  // the one due at 1 ms ran; the one at 3 ms is past the limit
  EXPECT_EQ(world.now(), Time(milliseconds(1)));
  world.run(Time(milliseconds(3)), nullptr);
  EXPECT_EQ(ran, 3);
}

// Against a plain reference: a list sorted by (time, scheduling order), with events that
// schedule more events at random offsets, zero among them.
TEST(WorldQueue, OrderMatchesASortedListUnderRandomScheduling) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    World world(seed, false);
    Prng rng(seed);
    std::vector<std::pair<Time, int>> ran;
    int next_id = 0;
    std::function<void(int)> schedule = [&](int depth) {
      const int id = next_id++;
      const Time at = world.now() + Duration(rng.below(3) * 1000);
      world.at(at, [&, id, depth] {
        ran.emplace_back(world.now(), id);
        if (depth < 4)
          for (uint64_t k = rng.below(3); k > 0; --k) schedule(depth + 1);
      });
    };
    for (int i = 0; i < 5; ++i) schedule(0);
    while (world.step()) {
    }
    // Times never go back, and among equal times the earlier-scheduled event ran first.
    for (size_t i = 1; i < ran.size(); ++i) {
      ASSERT_LE(ran[i - 1].first, ran[i].first) << "seed " << seed;
      if (ran[i - 1].first == ran[i].first) {
        ASSERT_LT(ran[i - 1].second, ran[i].second) << "seed " << seed;
      }
    }
    EXPECT_EQ(ran.size(), static_cast<size_t>(next_id));
  }
}

TEST(Work, SmallAndLargeCallablesRunAndFreeWhatTheyCaptured) {
  auto token = std::make_shared<int>(7);
  int sum = 0;
  {
    Work small = [token, &sum] { sum += *token; };  // in place
    std::array<char, 100> big{};
    big[0] = 1;
    Work large = [token, big, &sum] { sum += *token + big[0]; };  // on the heap
    EXPECT_EQ(token.use_count(), 3);
    Work moved = std::move(large);
    EXPECT_FALSE(large);  // NOLINT(bugprone-use-after-move): a moved-from Work is empty
    EXPECT_TRUE(moved);
    small();
    moved();
    EXPECT_EQ(sum, 15);
    small = nullptr;
    EXPECT_EQ(token.use_count(), 2);
  }
  EXPECT_EQ(token.use_count(), 1);
}

TEST(IdTable, FindsWhatIsLeftAndHandsOutIdsThatOnlyGrow) {
  IdTable<int> table;
  const uint64_t a = table.add(), b = table.add(), c = table.add();
  EXPECT_EQ((std::vector<uint64_t>{a, b, c}), (std::vector<uint64_t>{1, 2, 3}));
  *table.find(b) = 20;
  table.erase(a);  // the front goes, b stays where it is
  EXPECT_EQ(table.find(a), nullptr);
  ASSERT_NE(table.find(b), nullptr);
  EXPECT_EQ(*table.find(b), 20);
  table.erase(c);
  EXPECT_EQ(table.ids(), std::vector<uint64_t>{b});
  table.erase(b);
  EXPECT_TRUE(table.ids().empty());
  EXPECT_EQ(table.find(99), nullptr);
  const uint64_t d = table.add();
  table.clear();
  EXPECT_EQ(table.find(d), nullptr);
  EXPECT_EQ(table.add(), d + 1);
}

}  // namespace
}  // namespace lockstep::sim
