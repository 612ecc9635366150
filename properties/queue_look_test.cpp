// look_up_queue finds in one pass what the ports used to read off a sorted listing: the
// head of the queue, the node just before a place in it, and whether the place is there
// (recipe and zk-fast-pred ask it for every listing of a herd; same traces either way).
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <string>
#include <vector>

#include "core/locks/common.h"

namespace lockstep::locks {
namespace {

// What the sorted queue says, the way the ports read it before.
QueueLook by_sorting(const std::vector<std::string>& children, std::string_view must_contain,
                     SequentialNode place) {
  QueueLook out;
  auto queue = sorted_by_sequence(children, must_contain);
  if (!queue.empty()) out.first = queue.front();
  for (const auto& node : queue) {
    if (node.name == place.name) out.has_place = true;
    if (node.sequence < place.sequence ||
        (node.sequence == place.sequence && node.name < place.name))
      out.ahead = node;
  }
  return out;
}

void expect_same(const QueueLook& got, const QueueLook& want) {
  RC_ASSERT(got.has_place == want.has_place);
  RC_ASSERT(got.first.has_value() == want.first.has_value());
  if (got.first) RC_ASSERT(got.first->name == want.first->name);
  RC_ASSERT(got.ahead.has_value() == want.ahead.has_value());
  if (got.ahead) RC_ASSERT(got.ahead->name == want.ahead->name);
}

RC_GTEST_PROP(QueueLook, IsWhatTheSortedQueueSays, ()) {
  // Names as the ports meet them: protected recipe names, plain ones, equal numbers under
  // different prefixes, and junk without a number or without the marker.
  const auto names = *rc::gen::container<std::vector<std::string>>(rc::gen::oneOf(
      rc::gen::map(
          rc::gen::inRange(0, 40),
          [](int n) { return "_c_" + std::to_string(n % 3) + "-lock-" + sequence_suffix(n); }),
      rc::gen::map(rc::gen::inRange(0, 40), [](int n) { return "lock-" + sequence_suffix(n); }),
      rc::gen::element<std::string>("junk", "lock-", "other-0000000005", "x-lock-abc")));
  const int which = *rc::gen::inRange<int>(0, static_cast<int>(names.size()) + 1);
  const std::string mine =
      which < static_cast<int>(names.size()) ? names[which] : "lock-0000000020";
  const SequentialNode place{.name = mine, .sequence = sequence_number(mine).value_or(0)};
  expect_same(look_up_queue(names, "lock-", place), by_sorting(names, "lock-", place));
  // zk-fast-pred's form: everything numbered below n, whatever its name.
  const SequentialNode below{.name = "", .sequence = *rc::gen::inRange<int64_t>(0, 41)};
  expect_same(look_up_queue(names, "lock-", below), by_sorting(names, "lock-", below));
  expect_same(look_up_queue(names, "", below), by_sorting(names, "", below));
}

TEST(QueueLook, TheHeadHasNobodyAheadAndAGoneNodeIsNotFound) {
  const std::vector<std::string> names{"lock-0000000007", "lock-0000000003", "lock-0000000005"};
  QueueLook head = look_up_queue(names, "lock-", {.name = "lock-0000000003", .sequence = 3});
  EXPECT_TRUE(head.has_place);
  EXPECT_FALSE(head.ahead);
  ASSERT_TRUE(head.first);
  EXPECT_EQ(head.first->name, "lock-0000000003");
  QueueLook last = look_up_queue(names, "lock-", {.name = "lock-0000000007", .sequence = 7});
  ASSERT_TRUE(last.ahead);
  EXPECT_EQ(last.ahead->name, "lock-0000000005");
  EXPECT_FALSE(look_up_queue(names, "lock-", {.name = "lock-0000000004", .sequence = 4}).has_place);
}

}  // namespace
}  // namespace lockstep::locks
