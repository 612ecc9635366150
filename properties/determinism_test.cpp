// Same scenario and seed: the same trace, byte for byte, with every fault kind and the
// nemesis on. Different seeds: different interleavings.
#include <gtest/gtest.h>

#include <set>

#include "sim/run.h"
#include "sim/scenario.h"

namespace lockstep::sim {
namespace {

const char* kEveryFault = R"({
  "algorithm": "recipe", "clients": 4, "seed": 11, "session_timeout": "4s",
  "workload": { "cycles": 6, "hold": "300ms", "think": "20ms", "acquire_timeout": "20s" },
  "faults": [
    { "kind": "pause", "client": "holder", "at": "1s", "for": "6s" },
    { "kind": "crash", "client": 1, "at": "2s", "restart_after": "3s" },
    { "kind": "clock", "client": 2, "at": "500ms", "drift": "2%" },
    { "kind": "clock", "client": "server", "at": "3s", "jump": "+2s" },
    { "kind": "clock", "client": 3, "at": "4s", "strobe": { "swing": "200ms", "period": "50ms", "for": "1s" } },
    { "kind": "partition", "client": "waiter", "at": "5s", "for": "3s", "direction": "to_server" },
    { "kind": "drop_reply", "client": 0, "at": "6s", "op": "create" },
    { "kind": "latency", "at": "7s", "for": "2s", "min": "5ms", "max": "50ms" },
    { "kind": "loss", "at": "9s", "for": "500ms", "probability": 0.1 },
    { "kind": "duplicate", "at": "10s", "for": "500ms", "probability": 0.1 },
    { "kind": "server_stall", "at": "11s", "for": "5s" },
    { "kind": "expire_session", "client": 2, "at": "17s" }
  ],
  "nemesis": { "kinds": ["pause", "partition", "clock", "drop_reply"], "mean_interval": "3s", "quiet_after": "30s" },
  "duration": "120s" })";

TEST(Determinism, SameSeedSameTraceWithEveryFaultKind) {
  Scenario sc = parse_scenario(kEveryFault);
  RunResult a = run_scenario(sc);
  RunResult b = run_scenario(sc);
  ASSERT_GT(a.trace.size(), 100u);
  EXPECT_EQ(a.trace, b.trace);
  // Every kind left its mark in the trace.
  std::string all;
  for (const auto& l : a.trace) all += l + "\n";
  for (const char* mark :
       {"pause for", "crash", "clock: drift", "clock: jump", "clock: strobe", "partition",
        "drop_reply", "latency spike", "loss p=", "duplicate p=", "server stall", "expire_session"})
    EXPECT_NE(all.find(mark), std::string::npos) << mark;
}

TEST(Determinism, DifferentSeedsInterleaveDifferently) {
  Scenario sc = parse_scenario(R"({"algorithm":"recipe","clients":5,"workload":{"cycles":5}})");
  std::set<std::vector<int>> orders;
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    sc.seed = seed;
    RunResult r = run_scenario(sc);
    std::vector<int> order;
    for (const auto& e : r.history.events())
      if (e.kind == EventKind::Acquired) order.push_back(e.client);
    orders.insert(order);
  }
  EXPECT_GE(orders.size(), 4u) << "grant orders should differ between seeds";
}

TEST(Determinism, TraceWithoutKeepingIsEmptyButVerdictsEqual) {
  Scenario sc = parse_scenario(kEveryFault);
  RunOptions quiet;
  quiet.keep_trace = false;
  RunResult a = run_scenario(sc, quiet);
  RunResult b = run_scenario(sc);
  EXPECT_TRUE(a.trace.empty());
  ASSERT_EQ(a.verdicts.size(), b.verdicts.size());
  for (size_t i = 0; i < a.verdicts.size(); ++i) EXPECT_EQ(a.verdicts[i].ok, b.verdicts[i].ok);
  EXPECT_EQ(a.stats.events, b.stats.events) << "tracing must not change the run";
}

// A pause of the holder longer than the session timeout: its session expires, another
// client gets the lock, and the paused one still believes it holds.
Scenario long_pause(const std::string& algorithm, const std::string& pause) {
  return parse_scenario(R"({"algorithm":")" + algorithm + R"(","clients":3,"seed":5,
    "session_timeout":"4s","workload":{"cycles":3,"hold":"2s","think":"10ms"},
    "faults":[{"kind":"pause","client":"holder","at":"1s","for":")" +
                        pause + R"("}]})");
}

TEST(PauseBreaksExclusion, LongHolderPauseBreaksZkFastAndRecipe) {
  for (const char* algo : {"zk-fast", "recipe"}) {
    RunResult r = run_scenario(long_pause(algo, "10s"));
    ASSERT_FALSE(r.verdicts.empty());
    EXPECT_EQ(r.verdicts[0].checker, "mutual-exclusion");
    EXPECT_FALSE(r.verdicts[0].ok) << algo << ": " << r.verdicts[0].summary;
  }
}

TEST(PauseBreaksExclusion, ShortPausesAndNoFaultsKeepExclusion) {
  for (const char* algo : {"zk-fast", "recipe"}) {
    RunResult r = run_scenario(long_pause(algo, "1s"));
    EXPECT_TRUE(r.verdicts[0].ok) << algo << ": " << r.verdicts[0].summary;
    Scenario none = long_pause(algo, "1s");
    none.faults.clear();
    RunResult n = run_scenario(none);
    EXPECT_TRUE(n.verdicts[0].ok) << algo;
  }
}

// With N stores every server-side line names the store that wrote it, and the separate
// resource's server is named too; one store keeps the single name "server".
TEST(Determinism, ServerLinesNameTheirStore) {
  auto servers_seen = [](const RunResult& r) {
    std::set<std::string> seen;
    const std::string key = "\"src\":\"";
    for (const auto& line : r.trace) {
      const size_t at = line.find(key);
      if (at == std::string::npos) continue;
      const std::string src =
          line.substr(at + key.size(), line.find('"', at + key.size()) - (at + key.size()));
      if (src.rfind("client ", 0) != 0 && src != "world") seen.insert(src);
    }
    return seen;
  };
  Scenario three = parse_scenario(R"({"algorithm":"redlock","clients":3,"options":{"stores":3},
      "resource":{"fenced":true,"store":"separate"},"workload":{"cycles":2}})");
  EXPECT_EQ(servers_seen(run_scenario(three)),
            (std::set<std::string>{"store 0", "store 1", "store 2", "resource"}));
  Scenario one = parse_scenario(R"({"algorithm":"recipe","clients":3,"workload":{"cycles":2}})");
  EXPECT_EQ(servers_seen(run_scenario(one)), (std::set<std::string>{"server"}));
}

}  // namespace
}  // namespace lockstep::sim
