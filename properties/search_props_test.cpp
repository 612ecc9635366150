// Property tests over generated scenarios: what every algorithm must keep, what the
// reference recipe must keep under every fault, and what the search must find.
// Budgets are modest (each test well under 20 s on one core): RapidCheck's default 100
// cases, or an explicit bounded search.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "core/lock.h"
#include "sim/run.h"
#include "sim/search/generators.h"
#include "sim/search/search.h"

namespace lockstep::sim::search {
namespace {

// Asserts inside a property that `checker` reported and held.
void require_holds(const RunResult& r, const std::string& checker) {
  const Verdict* v = find_verdict(r, checker);
  RC_ASSERT(v != nullptr);
  if (!v->ok) RC_FAIL(checker + ": " + v->summary);
}

RC_GTEST_PROP(SearchProps, EveryAlgorithmKeepsMutualExclusionWithoutFaults, ()) {
  for (const auto& algo : algorithms()) {
    SearchSpace space;
    space.algorithm = &algo;  // no fault kinds: no faults
    const Scenario s = *gen_scenario(space);
    RC_ASSERT(s.faults.empty());
    RC_TAG(algo.name);
    require_holds(run_scenario(s, RunOptions{false}), "mutual-exclusion");
  }
}

RC_GTEST_PROP(SearchProps, RecipeWithFencedResourceKeepsFencingAndLostUpdateUnderEveryFault, ()) {
  for (const auto& kind : supported_fault_kinds(resolve_algorithm("recipe"))) {
    SearchSpace space;
    space.algorithm = &resolve_algorithm("recipe");
    space.fault_kinds = {kind};
    space.resource = true;
    space.fenced = true;
    const Scenario s = *gen_scenario(space);
    const RunResult r = run_scenario(s, RunOptions{false});
    require_holds(r, "fencing");
    require_holds(r, "lost-update");
  }
}

// Not RC_GTEST_PROP: each case is a whole search plus a shrink, so a handful of explicit
// base seeds is the budget. The search is the one `lockstep check` runs: scenarios come
// from the generator, never from a scenario written to fail.
TEST(SearchProps, FindsAndShrinksMutualExclusionViolationsUnderLongPauses) {
  for (const std::string algo : {"recipe", "zk-fast"}) {
    for (uint64_t seed : {1u, 2u, 3u}) {
      SearchConfig c;
      c.space.algorithm = &resolve_algorithm(algo);
      c.space.fault_kinds = {FaultKind::Pause};
      c.seed = seed;
      c.runs = 500;
      c.checkers = {"mutual-exclusion"};
      c.max_shrink_runs = 3000;
      const Search s(c);
      const auto results = run_search(s, true);
      ASSERT_FALSE(results.empty());
      const CaseResult& last = results.back();
      ASSERT_FALSE(last.failed.empty())
          << algo << " seed " << seed << ": no violation in " << c.runs << " pause scenarios";

      const Counterexample cx = s.shrink(last.index, "mutual-exclusion");
      EXPECT_FALSE(cx.verdict.ok);
      ASSERT_EQ(cx.minimal.faults.size(), 1u) << algo << " seed " << seed << ":\n"
                                              << scenario_to_json(cx.minimal);
      const Fault& f = cx.minimal.faults[0];
      EXPECT_EQ(f.kind, FaultKind::Pause);
      EXPECT_GT(*f.length, cx.minimal.session_timeout) << "a long pause, past the session";

      // Replays from its file to the same verdict, every time.
      for (int round = 0; round < 3; ++round) {
        const RunResult r = run_scenario(parse_scenario(scenario_to_json(cx.minimal)));
        const Verdict* v = find_verdict(r, "mutual-exclusion");
        ASSERT_NE(v, nullptr);
        EXPECT_FALSE(v->ok);
        EXPECT_EQ(v->summary, cx.verdict.summary);
      }
    }
  }
}

// Shrinks never leave the search space: the kinds stay the enabled ones, and a shrunk
// scenario is still one the generator could have produced (bounds included).
RC_GTEST_PROP(SearchProps, ShrinksStayInTheSearchSpace, ()) {
  SearchSpace space;
  space.algorithm = &resolve_algorithm(
      *rc::gen::elementOf(std::vector<std::string>{"recipe", "zk-fast", "zk-slow"}));
  space.fault_kinds = {FaultKind::Pause, FaultKind::Partition, FaultKind::Crash};
  const auto shrinkable = gen_scenario(space)(rc::Random(*rc::gen::arbitrary<uint64_t>()), 100);
  auto shrinks = shrinkable.shrinks();
  int n = 0;
  while (auto next = shrinks.next()) {
    const Scenario s = next->value();
    RC_ASSERT(s.clients >= 2 && s.clients <= 8);
    RC_ASSERT(s.workload.cycles >= 1 && s.workload.cycles <= 8);
    RC_ASSERT(s.faults.size() <= shrinkable.value().faults.size());
    for (const Fault& f : s.faults) {
      RC_ASSERT(f.kind == FaultKind::Pause || f.kind == FaultKind::Partition ||
                f.kind == FaultKind::Crash);
      if (f.target && f.target->kind == Target::Kind::Index) RC_ASSERT(f.target->index < s.clients);
    }
    if (++n >= 50) break;
  }
}

}  // namespace
}  // namespace lockstep::sim::search
