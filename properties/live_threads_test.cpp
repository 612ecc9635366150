// real/'s threads at work, with no server: a live run on the in-process store
// (LocalBackend: the clients are threads of this process, each on its own event loop, all
// on one data tree) with pauses that make the store expire sessions from its own thread.
// Plain tests here; under ThreadSanitizer (scripts/test --sanitize builds this file into
// lockstep_real_tests) they are what shows the cross-thread hand-offs are synchronised.
#include <gtest/gtest.h>

#include <string>

#include "core/faults/live_fault.h"
#include "real/live_runner.h"
#include "real/local_store.h"

namespace lockstep::real {
namespace {

using namespace std::chrono_literals;

int64_t grants(const LiveRunResult& r) {
  int64_t n = 0;
  for (const auto& e : r.history.events()) n += e.kind == EventKind::Acquired;
  return n;
}

const Verdict* verdict(const LiveRunResult& r, const std::string& checker) {
  for (const auto& v : r.verdicts)
    if (v.checker == checker) return &v;
  return nullptr;
}

LiveRunSpec contended(const std::string& algorithm, int clients, int cycles) {
  LiveRunSpec spec;
  spec.clients = clients;
  spec.duration = 60s;
  spec.client.algorithm = algorithm;
  spec.client.cycles = cycles;
  spec.client.hold = 1ms;
  spec.client.think = 0ms;
  spec.client.resource = true;
  spec.client.fenced = true;
  return spec;
}

TEST(LiveThreads, ClientsOnOneLocalStoreTakeTurns) {
  for (const char* algorithm : {"recipe", "zk-slow", "etcd-session"}) {
    LocalBackend backend;
    LiveRunResult r = run_live(contended(algorithm, 6, 5), backend);
    EXPECT_TRUE(r.problems.empty()) << algorithm << ": " << r.problems.front();
    EXPECT_TRUE(r.all_clients_done) << algorithm;
    EXPECT_EQ(grants(r), 30) << algorithm;
    ASSERT_NE(verdict(r, "mutual-exclusion"), nullptr) << algorithm;
    EXPECT_TRUE(verdict(r, "mutual-exclusion")->ok) << algorithm;
    EXPECT_EQ(r.resource_value, 30) << algorithm;
  }
}

// A paused client's loop stops pinging: the store's own thread expires its session, fires
// its watches and deletes its node while the other clients' threads go on.
TEST(LiveThreads, APausedHolderIsExpiredFromTheStoresThread) {
  LiveRunSpec spec = contended("zk-fast-pred", 3, 2);
  spec.client.hold = 300ms;
  spec.client.session_timeout = 400ms;
  spec.faults.push_back(LiveFault{.kind = FaultKind::Pause,
                                  .name = "pause",
                                  .who = LiveFault::Who::Holder,
                                  .at = 100ms,
                                  .length = 1500ms});
  LocalBackend backend;
  LiveRunResult r = run_live(spec, backend);
  EXPECT_EQ(r.faults_applied, 1);
  EXPECT_TRUE(r.all_clients_done);
  int expired = 0;
  for (const auto& e : r.history.events())
    expired += e.kind == EventKind::SessionChange && e.detail.find("expired") != std::string::npos;
  EXPECT_GE(expired, 1) << "the paused holder's session must expire";
}

}  // namespace
}  // namespace lockstep::real
