// A lock that takes the first name of a listing as the lowest, without sorting, is a
// classic ZooKeeper lock bug: ZooKeeper lists children in its HashSet's order, not by
// name. The simulated server lists them in a seeded shuffled order, so `check` finds the
// bug in the simulator; the same lock with one std::sort added holds.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/lock.h"
#include "core/locks/common.h"
#include "sim/search/search.h"

namespace lockstep {
namespace {

using locks::ensure_path;

AcquireResult timed_out() {
  AcquireResult r;
  r.error = "timeout";
  return r;
}

// Ephemeral sequential request nodes; the holder is the first name listed (or, with
// `sort`, the lowest). Waiters watch the directory and list again when it changes.
class FirstChildLock final : public Lock {
 public:
  FirstChildLock(LockContext ctx, bool sort)
      : env_(*ctx.env), session_(ctx.sessions.at(0)), dir_(ctx.path), sort_(sort) {}

  Task<AcquireResult> acquire(Time deadline) override {
    Future<Unit> timeout = env_.timer_at(deadline);
    for (;;) {
      if (env_.now() >= deadline) co_return timed_out();
      CreateReply created = co_await session_->create(join_path(dir_, "request-"), "",
                                                      CreateMode::EphemeralSequential);
      if (created.err == Error::Ok) {
        own_ = created.path;
        break;
      }
      if (created.err == Error::NoNode) co_await ensure_path(env_, *session_, dir_, deadline);
    }
    for (;;) {
      if (env_.now() >= deadline) {
        co_await session_->remove(own_, -1);
        co_return timed_out();
      }
      ChildrenReply listed = co_await session_->children(dir_, true);
      if (listed.err != Error::Ok || listed.children.empty()) continue;
      if (sort_) std::sort(listed.children.begin(), listed.children.end());
      if (listed.children.front() == base_name(own_)) {
        AcquireResult r;
        r.acquired = true;
        co_return r;
      }
      if (listed.watch.valid()) co_await first_of(listed.watch, timeout);
    }
  }

  Task<ReleaseResult> release() override {
    co_await session_->remove(own_, -1);
    co_return ReleaseResult{};
  }

 private:
  Env& env_;
  std::shared_ptr<Session> session_;
  std::string dir_;
  bool sort_;
  std::string own_;
};

AlgorithmInfo first_child_lock(const std::string& name, bool sort) {
  AlgorithmInfo a;
  a.name = name;
  a.summary = sort ? "the lowest child of a sorted listing holds"
                   : "the first child listed holds (no sort)";
  a.make = [sort](LockContext c) -> std::unique_ptr<Lock> {
    return std::make_unique<FirstChildLock>(std::move(c), sort);
  };
  return a;
}

void register_test_locks() {
  static const bool registered = [] {
    register_algorithm(first_child_lock("test-first-child", false));
    register_algorithm(first_child_lock("test-sorted-child", true));
    return true;
  }();
  (void)registered;
}

// The checkers that failed in a 60-case search without faults: the listing order alone.
std::vector<std::string> failed_checkers(const std::string& algorithm) {
  sim::search::SearchConfig c;
  c.space.algorithm = &resolve_algorithm(algorithm);
  c.seed = 1;
  c.runs = 60;
  std::vector<std::string> failed;
  for (const auto& r : sim::search::run_search(sim::search::Search(c), false))
    for (const auto& f : r.failed)
      if (std::find(failed.begin(), failed.end(), f) == failed.end()) failed.push_back(f);
  return failed;
}

TEST(UnsortedChildren, ALockThatTakesTheFirstListedNameFailsCheck) {
  register_test_locks();
  const auto failed = failed_checkers("test-first-child");
  EXPECT_NE(std::find(failed.begin(), failed.end(), "mutual-exclusion"), failed.end());
}

TEST(UnsortedChildren, TheSameLockSortingItsListingHolds) {
  register_test_locks();
  EXPECT_EQ(failed_checkers("test-sorted-child"), std::vector<std::string>{});
}

TEST(UnsortedChildren, RegisteringATakenNameOrNoMakeIsRefused) {
  register_test_locks();
  EXPECT_THROW(register_algorithm(first_child_lock("recipe", true)), std::invalid_argument);
  AlgorithmInfo no_make;
  no_make.name = "no-make";
  EXPECT_THROW(register_algorithm(no_make), std::invalid_argument);
}

}  // namespace
}  // namespace lockstep
