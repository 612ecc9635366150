// A lock node left behind is named with the session that made it and that session's
// client, in both liveness checkers' messages, so a reader can follow the orphan into the
// trace (issue 18 item 8).
//
// The lock this test registers stays in the catalogue for the rest of the process, so the
// file sorts after search_props_test.cpp, whose properties run every algorithm of the
// catalogue (as unsorted_children_test.cpp does).
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "core/check/checker.h"
#include "core/lock.h"
#include "core/locks/common.h"
#include "sim/run.h"
#include "sim/scenario.h"

namespace lockstep {
namespace {

// Grants at once and leaves a persistent node below the lock path at every acquire: a
// lock that litters.
class LitteringLock final : public Lock {
 public:
  explicit LitteringLock(LockContext ctx)
      : env_(*ctx.env), session_(ctx.sessions.at(0)), dir_(ctx.path) {}

  Task<AcquireResult> acquire(Time deadline) override {
    co_await locks::ensure_path(env_, *session_, dir_, deadline);
    co_await session_->create(join_path(dir_, "litter-"), "", CreateMode::PersistentSequential);
    AcquireResult r;
    r.acquired = true;
    co_return r;
  }
  Task<ReleaseResult> release() override { co_return ReleaseResult{}; }

 private:
  Env& env_;
  std::shared_ptr<Session> session_;
  std::string dir_;
};

const AlgorithmInfo& littering_lock() {
  static const bool registered = [] {
    AlgorithmInfo a;
    a.name = "test-littering";
    a.summary = "grants at once and leaves a persistent node per acquire";
    a.make = [](LockContext c) -> std::unique_ptr<Lock> {
      return std::make_unique<LitteringLock>(std::move(c));
    };
    register_algorithm(std::move(a));
    return true;
  }();
  (void)registered;
  return resolve_algorithm("test-littering");
}

sim::Scenario one_client_one_cycle() {
  sim::Scenario s;
  s.algorithm = littering_lock().name;
  s.clients = 1;
  s.seed = 1;
  s.workload.cycles = 1;
  s.workload.hold = std::chrono::milliseconds(5);
  s.duration = std::chrono::seconds(30);
  return s;
}

const Verdict* verdict_of(const sim::RunResult& r, const std::string& checker) {
  for (const auto& v : r.verdicts)
    if (v.checker == checker) return &v;
  return nullptr;
}

TEST(LeftoverOwner, LivenessNamesTheNodeItsSessionAndClient) {
  const sim::RunResult r = sim::run_scenario(one_client_one_cycle());
  ASSERT_EQ(r.leftover.size(), 1u);
  EXPECT_EQ(r.leftover[0].rfind("/locks/a/litter-0000000000 (persistent, created by client 0's "
                                "session 0x",
                                0),
            0u)
      << r.leftover[0];
  const Verdict* v = verdict_of(r, "liveness");
  ASSERT_NE(v, nullptr);
  EXPECT_FALSE(v->ok);
  ASSERT_EQ(v->details.size(), 1u);
  EXPECT_EQ(v->details[0], "lock node left after every session closed: " + r.leftover[0]);
}

TEST(LeftoverOwner, LivenessAfterQuietNamesThemToo) {
  sim::Scenario s = one_client_one_cycle();
  sim::Fault pause;
  pause.kind = FaultKind::Pause;
  pause.at = Time(std::chrono::milliseconds(100));
  pause.target = sim::Target{.kind = sim::Target::Kind::Index, .index = 0};
  pause.length = std::chrono::milliseconds(10);
  s.faults.push_back(pause);
  const sim::RunResult r = sim::run_scenario(s);
  const Verdict* v = verdict_of(r, "liveness-after-quiet");
  ASSERT_NE(v, nullptr);
  EXPECT_FALSE(v->ok);
  bool named = false;
  for (const auto& d : v->details)
    named |= d.rfind(
                 "lock node left after every session closed: /locks/a/litter-0000000000 "
                 "(persistent, created by client 0's session 0x",
                 0) == 0;
  EXPECT_TRUE(named) << v->summary;
}

}  // namespace
}  // namespace lockstep
