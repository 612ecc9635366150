// A listing is one shared snapshot while a node's children do not change, and a deferred
// shuffle gives exactly the names, order and generator state of an immediate one (so the
// traces of every committed scenario stay the same).
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "core/prng.h"
#include "core/zk/data_tree.h"
#include "core/zk/listing_order.h"

namespace lockstep {
namespace {

constexpr int64_t S1 = 0x101;

TEST(SharedListing, UnchangedChildrenShareOneSnapshot) {
  DataTree t;
  std::vector<WatchFire> fired;
  t.create(S1, "/q", "", CreateMode::Persistent, 0, 0, fired);
  for (int i = 0; i < 3; ++i)
    t.create(S1, "/q/n-", "", CreateMode::EphemeralSequential, 0, 0, fired);
  ChildList first = t.children(S1, "/q", false).children;
  ChildList again = t.children(S1, "/q", true).children;
  EXPECT_EQ(first.get(), again.get());
  EXPECT_EQ(*first, (std::vector<std::string>{"n-0000000000", "n-0000000001", "n-0000000002"}));
}

TEST(SharedListing, AChangeMakesANewSnapshotAndLeavesTheOldOneAlone) {
  DataTree t;
  std::vector<WatchFire> fired;
  t.create(S1, "/q", "", CreateMode::Persistent, 0, 0, fired);
  t.create(S1, "/q/a", "", CreateMode::Persistent, 0, 0, fired);
  ChildList before = t.children(S1, "/q", false).children;
  t.create(S1, "/q/b", "", CreateMode::Persistent, 0, 0, fired);
  ChildList added = t.children(S1, "/q", false).children;
  t.remove("/q/a", -1, fired);
  ChildList removed = t.children(S1, "/q", false).children;
  EXPECT_EQ(*before, std::vector<std::string>{"a"});
  EXPECT_EQ(*added, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(*removed, std::vector<std::string>{"b"});
}

TEST(SharedListing, EachChangeMakesTheNextListingFromTheLastOne) {
  DataTree t;
  std::vector<WatchFire> fired;
  t.create(S1, "/q", "", CreateMode::Persistent, 0, 0, fired);
  for (const char* name : {"/q/m", "/q/c", "/q/x"}) {
    t.create(S1, name, "", CreateMode::Persistent, 0, 0, fired);
    t.children(S1, "/q", false);  // made: the next change makes the next from it
  }
  EXPECT_EQ(*t.children(S1, "/q", false).children, (std::vector<std::string>{"c", "m", "x"}));
  t.remove("/q/m", -1, fired);
  t.create(S1, "/q/a", "", CreateMode::Persistent, 0, 0, fired);
  EXPECT_EQ(*t.children(S1, "/q", false).children, (std::vector<std::string>{"a", "c", "x"}));
  t.create(S1, "/q/a", "", CreateMode::Persistent, 0, 0, fired);  // NodeExists: no change
  t.remove("/q/zz", -1, fired);                                   // NoNode: no change
  EXPECT_EQ(*t.children(S1, "/q", false).children, (std::vector<std::string>{"a", "c", "x"}));
}

TEST(SharedListing, AnAbortedMultiLeavesTheListingAsItWas) {
  DataTree t;
  std::vector<WatchFire> fired;
  t.create(S1, "/q", "", CreateMode::Persistent, 0, 0, fired);
  t.create(S1, "/q/a", "", CreateMode::Persistent, 0, 0, fired);
  t.children(S1, "/q", false);  // a listing nobody holds: the multi must not edit it for good
  MultiReply r =
      t.multi(S1, {Op::create("/q/b", "", CreateMode::Persistent), Op::check("/q/a", 7)}, 0, fired);
  ASSERT_EQ(r.err, Error::BadVersion);
  EXPECT_EQ(*t.children(S1, "/q", false).children, std::vector<std::string>{"a"});
}

RC_GTEST_PROP(SharedListing, DeferredShuffleIsTheImmediateOne, (uint64_t seed, uint8_t count)) {
  std::vector<std::string> names;
  for (int i = 0; i < count; ++i) names.push_back("n-" + std::to_string(i));
  Prng now(seed), later(seed);
  std::vector<std::string> shuffled = names;
  shuffle_listing(shuffled, now);
  DeferredListing d =
      defer_shuffle(std::make_shared<const NameList>(NameList::of_sorted(names)), later);
  RC_ASSERT(d.make() == shuffled);
  RC_ASSERT(d.make() == shuffled);        // a duplicated reply reads the same listing
  RC_ASSERT(later.next() == now.next());  // the generator moved on by the same draws
}

// A list made by adding and taking out names one at a time, past many chunk splits and
// emptied chunks, holds what a sorted set holds, and the lists it was made from keep theirs.
RC_GTEST_PROP(SharedListing, AddedAndRemovedNamesKeepEverySnapshotAsItWas,
              (std::vector<std::pair<bool, uint16_t>> steps)) {
  std::set<std::string> want;
  NameList list;
  std::vector<std::pair<NameList, std::vector<std::string>>> kept;
  for (auto [add, n] : steps) {
    // Few enough distinct names that removes hit, enough that chunks split.
    const std::string name = "n-" + std::to_string(n % 700);
    if (add && want.insert(name).second) list = list.with(name);
    if (!add && want.erase(name) > 0) list = list.without(name);
    RC_ASSERT(list == std::vector<std::string>(want.begin(), want.end()));
    RC_ASSERT(list.size() == want.size());
    if (kept.size() < 50) kept.push_back({list, list.to_vector()});
  }
  for (const auto& [snapshot, names] : kept) RC_ASSERT(snapshot == names);
}

TEST(SharedListing, AThousandNamesInOrderAndBack) {
  std::vector<std::string> names;
  NameList list;
  for (int i = 999; i >= 0; --i) {
    names.insert(names.begin(),
                 "n-" + std::string(4 - std::to_string(i).size(), '0') + std::to_string(i));
    list = list.with(names.front());
  }
  EXPECT_EQ(list.to_vector(), names);
  EXPECT_EQ(NameList::of_sorted(names).to_vector(), names);
  for (size_t i = 0; i < names.size(); i += 2) list = list.without(names[i]);
  EXPECT_EQ(list.size(), 500u);
  EXPECT_EQ(list.to_vector().front(), names[1]);
  EXPECT_EQ(list.to_vector().back(), names.back());
}

TEST(SharedListing, NoSnapshotMakesAnEmptyListing) {
  DeferredListing none;
  EXPECT_TRUE(none.make().empty());
  EXPECT_EQ(none.size(), 0u);
}

}  // namespace
}  // namespace lockstep
