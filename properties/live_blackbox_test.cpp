// `lockstep live --client-cmd`: lock clients of other languages as black boxes, on the
// ZooKeeper of LOCKSTEP_ZK (skipped without one). The adapters shipped in real/clients/
// (Curator's InterProcessMutex, kazoo's Lock, the template of docs/live.md) run clean
// without faults and give the mutual-exclusion verdict, not a hang, for a holder paused
// past its session timeout; clients that lie, stay silent, exit at once or print
// garbage each end in a clear verdict well within the run's duration.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "properties/live_harness.h"

namespace lockstep::real {
namespace {

using namespace std::chrono_literals;

class Blackbox : public LiveRunner {
 protected:
  void SetUp() override {
    LiveRunner::SetUp();
    if (IsSkipped()) return;
    ASSERT_FALSE(clients_dir().empty()) << "real/clients not found from " << self_dir();
  }
  // `lockstep live --client-cmd CMD ARGS...`, timed: the run must end by itself well
  // within `limit` (the test's own kill), with the verdicts printed.
  Outcome run(const std::string& cmd, std::vector<std::string> args, Duration limit = 90s) {
    args.insert(args.begin(), {"--store", std::string("zk:") + zk_address(), "--client-cmd", cmd,
                               "--client-logs", ::testing::TempDir()});
    const auto start = std::chrono::steady_clock::now();
    Outcome o = live(args, zk_address(), {}, limit);
    elapsed_ = std::chrono::steady_clock::now() - start;
    EXPECT_TRUE(o.has("mutual-exclusion")) << o.out;
    EXPECT_LT(elapsed_, limit) << o.out;
    return o;
  }
  std::string client(const std::string& name) const { return clients_dir() + "/" + name; }
  Duration elapsed_{0};
};

TEST_F(Blackbox, KazooEightClientsNoViolation) {
  if (!have_kazoo()) GTEST_SKIP() << "python3-kazoo is not installed";
  Outcome o = run(client("kazoo-lock"), {"--clients", "8", "--cycles", "3", "--hold", "5ms",
                                         "--resource", "unfenced", "--duration", "60s"});
  EXPECT_EQ(o.status, 0) << o.out;
  EXPECT_TRUE(o.passed("mutual-exclusion")) << o.out;
  EXPECT_TRUE(o.passed("lost-update")) << o.out;
  EXPECT_TRUE(o.passed("fencing")) << o.out;
  EXPECT_TRUE(o.passed("liveness")) << o.out;
  EXPECT_EQ(count(o, "acquired"), 24) << o.out;
  EXPECT_EQ(count(o, "resource_write"), 24) << o.out;
}

TEST_F(Blackbox, CuratorEightClientsNoViolation) {
  // javac once, outside the run's clock.
  ASSERT_EQ(run_program(client("curator-lock"), {"--compile"}, {}, 180s).first, 0);
  Outcome o = run(client("curator-lock"), {"--clients", "8", "--cycles", "2", "--hold", "5ms",
                                           "--resource", "fenced", "--duration", "80s"});
  EXPECT_EQ(o.status, 0) << o.out;
  EXPECT_TRUE(o.passed("mutual-exclusion")) << o.out;
  EXPECT_TRUE(o.passed("lost-update")) << o.out;
  EXPECT_TRUE(o.passed("liveness")) << o.out;
  EXPECT_EQ(count(o, "acquired"), 16) << o.out;
}

// The template of docs/live.md, as committed, runs clean.
TEST_F(Blackbox, TemplateClientNoViolation) {
  if (!have_kazoo()) GTEST_SKIP() << "python3-kazoo is not installed";
  Outcome o = run(client("template-client.py"),
                  {"--clients", "3", "--cycles", "3", "--hold", "5ms", "--resource", "unfenced"});
  EXPECT_EQ(o.status, 0) << o.out;
  EXPECT_TRUE(o.passed("lost-update")) << o.out;
  EXPECT_TRUE(o.passed("liveness")) << o.out;
}

// A holder stopped for 8 s, twice its 4 s session: the other client is granted the lock
// while the stopped one still holds it in its own eyes (its listener can only speak once
// it runs again), and the checker reports the overlap. The run ends by itself.
std::vector<std::string> paused_holder() {
  return {"--clients",  "2",    "--cycles",          "2",  "--hold",  "3s",
          "--think",    "10ms", "--session-timeout", "4s", "--fault", "pause:holder:1s:8s",
          "--duration", "60s"};
}

TEST_F(Blackbox, KazooPausedHolderOverlaps) {
  if (!have_kazoo()) GTEST_SKIP() << "python3-kazoo is not installed";
  Outcome o = run(client("kazoo-lock"), paused_holder());
  EXPECT_EQ(o.status, 1) << o.out;
  EXPECT_FALSE(o.passed("mutual-exclusion")) << o.out;
  // As with Curator below: kazoo calls its listener on a thread of its own, so whether
  // `lost` comes before the release that fell due during the pause is a race (seen both
  // ways on a loaded 2-core machine): not asserted.
}

TEST_F(Blackbox, CuratorPausedHolderOverlaps) {
  ASSERT_EQ(run_program(client("curator-lock"), {"--compile"}, {}, 180s).first, 0);
  Outcome o = run(client("curator-lock"), paused_holder());
  EXPECT_EQ(o.status, 1) << o.out;
  EXPECT_FALSE(o.passed("mutual-exclusion")) << o.out;
  // Whether its listener says `lost` before the release that was due during the pause
  // reaches it is a race (Curator calls listeners on a thread of its own): not asserted.
}

// Says "acquired" without taking any lock: caught by mutual exclusion.
TEST_F(Blackbox, LyingClientIsCaught) {
  Outcome o = run(client("misbehaving-client") + " liar",
                  {"--clients", "4", "--cycles", "3", "--hold", "50ms"});
  EXPECT_EQ(o.status, 1) << o.out;
  EXPECT_FALSE(o.passed("mutual-exclusion")) << o.out;
}

// Never answers: killed after --client-timeout, one line says so; long before --duration.
TEST_F(Blackbox, SilentClientTimesOut) {
  Outcome o =
      run(client("misbehaving-client") + " silent",
          {"--clients", "2", "--cycles", "2", "--client-timeout", "2s", "--duration", "60s"});
  EXPECT_EQ(o.status, 1) << o.out;
  EXPECT_FALSE(o.passed("liveness")) << o.out;
  EXPECT_NE(o.out.find("client 0: no \"ready\" within 2s"), std::string::npos) << o.out;
  EXPECT_LT(elapsed_, 30s) << o.out;
}

TEST_F(Blackbox, ClientThatExitsAtOnce) {
  Outcome o = run(client("misbehaving-client") + " exit", {"--clients", "2", "--cycles", "2"});
  EXPECT_EQ(o.status, 1) << o.out;
  EXPECT_FALSE(o.passed("liveness")) << o.out;
  EXPECT_NE(o.out.find("client 1 exited before finishing (exit status 3"), std::string::npos)
      << o.out;
  EXPECT_LT(elapsed_, 30s) << o.out;
}

TEST_F(Blackbox, GarbageIsAProtocolErrorNamingClientAndLine) {
  Outcome o = run(client("misbehaving-client") + " garbage", {"--clients", "2", "--cycles", "2"});
  EXPECT_EQ(o.status, 1) << o.out;
  EXPECT_FALSE(o.passed("liveness")) << o.out;
  EXPECT_NE(o.out.find("client 1: protocol error on stdout line 2: not JSON: \"I hold the lock"),
            std::string::npos)
      << o.out;
  EXPECT_LT(elapsed_, 30s) << o.out;
}

}  // namespace
}  // namespace lockstep::real
