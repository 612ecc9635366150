// A scenario whose estimated peak memory exceeds what the machine has is refused before
// it starts, with one line that says the estimate (cli/memory_guard.h); what fits runs.
#include "cli/memory_guard.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "cli/args.h"
#include "cli/commands.h"
#include "sim/memory_estimate.h"
#include "sim/scenario.h"

namespace lockstep::cli {
namespace {

sim::Scenario herd(const std::string& algorithm, int clients) {
  return sim::parse_scenario(R"({"algorithm": ")" + algorithm + R"(", "clients": )" +
                             std::to_string(clients) + R"(, "workload": {"cycles": 1}})");
}

constexpr uint64_t kGB = 1'000'000'000;

TEST(MemoryGuard, AHerdTooBigForTheMachineIsRefusedInOneLineThatSaysTheEstimate) {
  auto why = memory_refusal(herd("recipe", 100000), false, 1 * kGB);
  ASSERT_TRUE(why.has_value());
  EXPECT_EQ(why->find('\n'), std::string::npos) << *why;
  EXPECT_NE(why->find("100000 clients of recipe need an estimated 6.6 GB"), std::string::npos)
      << *why;
  EXPECT_NE(why->find("this machine has 1.0 GB available"), std::string::npos) << *why;
}

TEST(MemoryGuard, WhatFitsIsNotRefused) {
  EXPECT_FALSE(memory_refusal(herd("recipe", 10000), false, 2 * kGB).has_value());
  EXPECT_FALSE(memory_refusal(herd("zk-slow", 50000), false, 2 * kGB).has_value());
}

TEST(MemoryGuard, EtcdSessionGrowsWithTheSquareOfItsClients) {
  const uint64_t thousand = sim::estimate_memory(herd("etcd-session", 1000), false).bytes;
  const uint64_t ten_thousand = sim::estimate_memory(herd("etcd-session", 10000), false).bytes;
  EXPECT_GT(thousand, 800'000'000u);  // measured: 832 MB
  EXPECT_GT(ten_thousand, 80 * thousand);
}

TEST(MemoryGuard, AnAlgorithmNotMeasuredIsChargedTheLargestFigure) {
  sim::MemoryEstimate redlock = sim::estimate_memory(herd("redlock", 10000), false);
  EXPECT_FALSE(redlock.measured);
  EXPECT_EQ(redlock.bytes,
            sim::estimate_memory(herd("zk-ttl", 10000), false).bytes);  // the largest
  auto why = memory_refusal(herd("redlock", 100000), false, kGB);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("not measured"), std::string::npos) << *why;
}

TEST(MemoryGuard, AKeptTraceAndMoreCyclesCostMore) {
  sim::Scenario s = herd("zk-slow", 1000);
  const uint64_t plain = sim::estimate_memory(s, false).bytes;
  EXPECT_GT(sim::estimate_memory(s, true).bytes, plain);
  s.workload.cycles = 100;
  EXPECT_GT(sim::estimate_memory(s, false).bytes, plain);
}

TEST(MemoryGuard, RunRefusesBeforeItStartsWithAnInjectedSmallMachine) {
  const auto path = std::filesystem::temp_directory_path() / "lockstep-memory-guard-herd.json";
  {
    std::ofstream out(path);
    out << R"({"algorithm": "recipe", "clients": 2000, "workload": {"cycles": 1}})";
  }
  setenv("LOCKSTEP_MEM_AVAILABLE", "50000000", 1);  // 50 MB
  std::string refused;
  try {
    run_command({path.string()});
  } catch (const UsageError& e) {
    refused = e.message;
  }
  unsetenv("LOCKSTEP_MEM_AVAILABLE");
  std::filesystem::remove(path);
  EXPECT_NE(refused.find("2000 clients of recipe need an estimated 0.1 GB"), std::string::npos)
      << refused;
  EXPECT_NE(refused.find("this machine has 0.1 GB available"), std::string::npos) << refused;
}

TEST(MemoryGuard, TheMachineIsReadFromMemAvailable) {
  unsetenv("LOCKSTEP_MEM_AVAILABLE");
  std::optional<uint64_t> have = available_memory();
  ASSERT_TRUE(have.has_value());  // Linux
  EXPECT_GT(*have, 0u);
  setenv("LOCKSTEP_MEM_AVAILABLE", "12345", 1);
  EXPECT_EQ(available_memory(), 12345u);
  unsetenv("LOCKSTEP_MEM_AVAILABLE");
}

}  // namespace
}  // namespace lockstep::cli
