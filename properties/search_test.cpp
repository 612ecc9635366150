// The property search of `lockstep check`: determinism (same seed, same cases and
// results), sharding (the shards' union is the unsharded search), valid generated and
// shrunk scenarios, and shrinking to a minimal counterexample that replays from its file.
#include "sim/search/search.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>

#include "core/lock.h"
#include "sim/run.h"
#include "sim/scenario.h"
#include "sim/search/matrix.h"
#include "sim/search/matrix_search.h"

namespace lockstep::sim::search {
namespace {

SearchConfig config(const std::string& algorithm, std::vector<FaultKind> kinds, uint64_t runs,
                    uint64_t seed = 1) {
  SearchConfig c;
  c.space.algorithm = &resolve_algorithm(algorithm);
  c.space.fault_kinds = std::move(kinds);
  c.space.resource = true;
  c.seed = seed;
  c.runs = runs;
  return c;
}

TEST(Search, CasesAreCountedAndIndexedWithoutAList) {
  SearchConfig c = config("recipe", {}, 10);
  c.shard = Shard{3, 4};
  const Search s(c);
  EXPECT_EQ(s.cases(), (std::vector<uint64_t>{3, 7}));
  EXPECT_EQ(s.case_count(), 2u);
  EXPECT_EQ(s.case_at(1), 7u);
  c.runs = kMaxRuns;
  EXPECT_EQ(Search(c).case_count(), kMaxRuns / 4);
  EXPECT_EQ(Search(c).case_at(kMaxRuns / 4 - 1), kMaxRuns - 1);
}

TEST(Search, AMatrixOfTheLargestSearchKeepsNothingPerRun) {
  // The matrix kept one result per run from the start: --runs 1000000000 was bad_alloc.
  MatrixConfig config;
  config.algorithms = {"zk-slow"};
  config.runs = kMaxRuns;
  MatrixSearch m(config);
  EXPECT_EQ(m.run_count(), fault_classes().size() * kMaxRuns);
  bool any_failed = false;
  for (size_t k = 0; k < 40; ++k) any_failed |= m.run(kMaxRuns + k);  // the "pause" cell
  EXPECT_TRUE(any_failed);
  EXPECT_GE(m.plan_shrinks(), 1u);
}

TEST(Search, ShardsTogetherRunExactlyTheUnshardedSearch) {
  const SearchConfig whole =
      config("recipe", supported_fault_kinds(resolve_algorithm("recipe")), 60);
  const auto expected = run_search(Search(whole), false);
  ASSERT_EQ(expected.size(), 60u);

  for (uint64_t n : {2u, 3u, 7u}) {
    std::vector<CaseResult> merged;
    for (uint64_t k = 0; k < n; ++k) {
      SearchConfig part = whole;
      part.shard = Shard{k, n};
      const Search s(part);
      for (uint64_t i : s.cases()) EXPECT_EQ(i % n, k);
      for (auto& r : run_search(s, false)) merged.push_back(r);
    }
    std::sort(merged.begin(), merged.end(),
              [](const CaseResult& a, const CaseResult& b) { return a.index < b.index; });
    EXPECT_EQ(merged, expected) << "shards of " << n;
  }
}

TEST(Search, SameSeedSameCasesAndResults) {
  const SearchConfig c =
      config("zk-fast", {FaultKind::Pause, FaultKind::Clock, FaultKind::DropReply}, 40, 7);
  const Search a(c), b(c);
  for (uint64_t i = 0; i < c.runs; ++i) {
    EXPECT_EQ(a.case_id(i).seed, b.case_id(i).seed);
    EXPECT_EQ(a.generate(i).value(), b.generate(i).value()) << "case " << i;
  }
  EXPECT_EQ(run_search(a, false), run_search(b, false));

  // Another base seed is another search.
  const Search other(
      config("zk-fast", {FaultKind::Pause, FaultKind::Clock, FaultKind::DropReply}, 40, 8));
  int same = 0;
  for (uint64_t i = 0; i < c.runs; ++i) same += other.generate(i).value() == a.generate(i).value();
  EXPECT_LT(same, 5);
}

TEST(Search, GeneratedScenariosAreValidAndRoundTrip) {
  for (const auto& algo : algorithms()) {
    const Search s(config(algo.name, supported_fault_kinds(algo), 150, 3));
    size_t faults = 0;
    for (uint64_t i = 0; i < 150; ++i) {
      const Scenario sc = s.generate(i).value();
      EXPECT_GE(sc.clients, 2);
      EXPECT_LE(sc.clients, 8);
      EXPECT_GE(sc.workload.cycles, 1);
      EXPECT_LE(sc.workload.cycles, 8);
      EXPECT_LE(sc.faults.size(), 4u);
      faults += sc.faults.size();
      // parse_scenario validates every key (client indices below clients, a negotiable
      // timeout, ...) and must give the same scenario back: what check writes replays.
      const std::string text = scenario_to_json(sc);
      Scenario back;
      ASSERT_NO_THROW(back = parse_scenario(text)) << text;
      EXPECT_EQ(back, sc) << text;
    }
    EXPECT_GT(faults, 150u) << algo.name << ": about 2 faults per scenario expected";
  }
}

TEST(Search, EveryShrinkIsAValidScenario) {
  const Search s(config("recipe", supported_fault_kinds(resolve_algorithm("recipe")), 30, 11));
  for (uint64_t i = 0; i < 30; ++i) {
    rc::Shrinkable<Scenario> current = s.generate(i);
    // Walk down the first shrink of each level, checking every sibling on the way.
    for (int depth = 0; depth < 6; ++depth) {
      auto shrinks = current.shrinks();
      std::optional<rc::Shrinkable<Scenario>> first;
      int seen = 0;
      while (auto next = shrinks.next()) {
        const Scenario sc = next->value();
        ASSERT_NO_THROW(parse_scenario(scenario_to_json(sc))) << scenario_to_json(sc);
        for (const Fault& f : sc.faults) {
          if (f.target && f.target->kind == Target::Kind::Index) {
            EXPECT_LT(f.target->index, sc.clients);
          }
        }
        if (!first) first = *next;
        if (++seen >= 40) break;
      }
      if (!first) break;
      current = *first;
    }
  }
}

// Finds the first case of a pause-only search that breaks mutual exclusion.
std::optional<uint64_t> first_failure(const Search& s, const std::string& checker) {
  for (const CaseResult& r : run_search(s, true))
    if (std::find(r.failed.begin(), r.failed.end(), checker) != r.failed.end()) return r.index;
  return std::nullopt;
}

TEST(Search, ShrinksAPauseCounterexampleToOneFaultThatReplays) {
  SearchConfig c = config("recipe", {FaultKind::Pause}, 400);
  c.checkers = {"mutual-exclusion"};
  c.max_shrink_runs = 3000;
  const Search s(c);
  const auto found = first_failure(s, "mutual-exclusion");
  ASSERT_TRUE(found) << "no mutual exclusion violation in 400 pause scenarios";

  const Counterexample cx = s.shrink(*found, "mutual-exclusion");
  EXPECT_FALSE(cx.shrink_capped);
  EXPECT_EQ(cx.minimal.faults.size(), 1u) << scenario_to_json(cx.minimal);
  EXPECT_EQ(cx.minimal.faults[0].kind, FaultKind::Pause);
  EXPECT_LE(cx.minimal.clients, cx.original.clients);
  EXPECT_LE(cx.minimal.workload.cycles, cx.original.workload.cycles);
  EXPECT_LE(cx.minimal.faults.size(), cx.original.faults.size());
  EXPECT_FALSE(cx.verdict.ok);
  // A pause that breaks the lock must outlast the session: a short one never does.
  EXPECT_GT(*cx.minimal.faults[0].length, cx.minimal.session_timeout);

  // Written, read back and run: the same failure, every time.
  const auto path = std::filesystem::temp_directory_path() /
                    ("lockstep-search-test-" + std::to_string(cx.found_in.seed) + ".json");
  {
    std::ofstream out(path);
    out << scenario_to_json(cx.minimal);
  }
  for (int round = 0; round < 3; ++round) {
    const Scenario loaded = load_scenario(path.string());
    EXPECT_EQ(loaded, cx.minimal);
    const RunResult r = run_scenario(loaded, RunOptions{round % 2 == 0});
    const Verdict* v = find_verdict(r, "mutual-exclusion");
    ASSERT_NE(v, nullptr);
    EXPECT_FALSE(v->ok);
    EXPECT_EQ(v->summary, cx.verdict.summary);
    EXPECT_EQ(v->details, cx.verdict.details);
  }
  std::filesystem::remove(path);
}

TEST(Search, ShrinkingIsDeterministic) {
  SearchConfig c = config("zk-fast", {FaultKind::Pause, FaultKind::Partition}, 300, 5);
  c.checkers = {"mutual-exclusion"};
  const Search s(c);
  const auto found = first_failure(s, "mutual-exclusion");
  ASSERT_TRUE(found);
  const Counterexample a = s.shrink(*found, "mutual-exclusion");
  const Counterexample b = Search(c).shrink(*found, "mutual-exclusion");
  EXPECT_EQ(a.minimal, b.minimal);
  EXPECT_EQ(a.shrink_runs, b.shrink_runs);
  EXPECT_EQ(a.verdict.summary, b.verdict.summary);
}

TEST(Search, NoFaultsMeansNoFaults) {
  const Search s(config("recipe", {}, 50));
  for (uint64_t i = 0; i < 50; ++i) EXPECT_TRUE(s.generate(i).value().faults.empty());
}

TEST(Search, OnlyTheEnabledKindsAreDrawn) {
  const Search s(config("recipe", {FaultKind::Clock, FaultKind::DropReply}, 100));
  std::set<FaultKind> kinds;
  for (uint64_t i = 0; i < 100; ++i)
    for (const Fault& f : s.generate(i).value().faults) kinds.insert(f.kind);
  EXPECT_EQ(kinds, (std::set<FaultKind>{FaultKind::Clock, FaultKind::DropReply}));
}

TEST(Search, UnknownAlgorithmIsRefused) {
  EXPECT_THROW(resolve_algorithm("nope"), UnknownAlgorithm);
  const SearchSpace without_algorithm;  // the name was never resolved
  EXPECT_THROW(gen_scenario(without_algorithm), std::invalid_argument);
}

TEST(Matrix, FaultClassesAndTally) {
  EXPECT_EQ(fault_class_kinds("lost-reply", resolve_algorithm("recipe")),
            std::vector<FaultKind>{FaultKind::DropReply});
  EXPECT_TRUE(fault_class_kinds("none", resolve_algorithm("recipe")).empty());
  EXPECT_EQ(fault_class_kinds("all", resolve_algorithm("recipe")),
            supported_fault_kinds(resolve_algorithm("recipe")));
  EXPECT_EQ(fault_class_kinds("server_stall", resolve_algorithm("recipe")),
            std::vector<FaultKind>{FaultKind::ServerStall});
  // A kind's older spellings name it too.
  EXPECT_EQ(fault_class_kinds("expire", resolve_algorithm("recipe")),
            std::vector<FaultKind>{FaultKind::ExpireSession});
  // store_crash needs several stores.
  EXPECT_EQ(supported_fault_kinds(resolve_algorithm("recipe")).size() + 1,
            supported_fault_kinds(resolve_algorithm("redlock"), 5).size());
  EXPECT_THROW(fault_class_kinds("meteor", resolve_algorithm("recipe")), std::invalid_argument);

  std::vector<CaseResult> rs(3);
  rs[0] = {0, {"mutual-exclusion", "fencing"}, {}, 10};
  rs[1] = {1, {"mutual-exclusion", "fencing"}, {"mutual-exclusion"}, 10};
  rs[2] = {2, {"mutual-exclusion"}, {"mutual-exclusion"}, 10};
  const auto t = tally(rs);
  EXPECT_EQ(t.at("mutual-exclusion").runs, 3);
  EXPECT_EQ(t.at("mutual-exclusion").violations, 2);
  EXPECT_EQ(t.at("mutual-exclusion").first_failure, 1);
  EXPECT_EQ(t.at("fencing").runs, 2);
  EXPECT_EQ(t.at("fencing").first_failure, -1);

  EXPECT_EQ(order_checkers({"zeta", "liveness", "fencing", "mutual-exclusion", "fencing"}),
            (std::vector<std::string>{"mutual-exclusion", "fencing", "liveness", "zeta"}));
}

TEST(Matrix, FaultClassColumnsAlwaysHaveAFault) {
  SearchConfig c;
  c.space = matrix_space(resolve_algorithm("recipe"), "pause");
  c.runs = 100;
  EXPECT_TRUE(c.space.resource);
  EXPECT_TRUE(c.space.fenced);  // recipe has a token
  EXPECT_FALSE(matrix_space(resolve_algorithm("zk-slow"), "none").fenced);
  const Search s(c);
  for (uint64_t i = 0; i < c.runs; ++i) {
    const auto shrinkable = s.generate(i);
    ASSERT_FALSE(shrinkable.value().faults.empty()) << "case " << i;
    // Shrinking removes faults, but never the last one.
    auto shrinks = shrinkable.shrinks();
    while (auto next = shrinks.next()) ASSERT_FALSE(next->value().faults.empty());
  }
}

}  // namespace
}  // namespace lockstep::sim::search
