// The zoo of real lock-client bugs (docs/findings.md, "Zoo"): for each port, the default
// search of `lockstep check` finds the reported behaviour (bug=true) and, with the same
// budget and seed, the fixed one (bug=false) holds. The budgets here are small, to keep
// the test fast; docs/findings.md gives the 2000-run searches.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/lock.h"
#include "sim/faults/table.h"
#include "sim/search/search.h"

namespace lockstep::sim::search {
namespace {

struct ZooCase {
  std::string algorithm;
  std::vector<FaultKind> faults;  // empty: every kind the algorithm supports (--faults all)
  std::vector<std::string> checkers;
  uint64_t runs;  // the budget: the buggy port fails within it (docs/findings.md, Zoo)
  std::vector<std::pair<std::string, std::string>> options = {};  // besides bug
};

SearchConfig zoo_search(const ZooCase& z, bool bug) {
  const AlgorithmInfo& algo = resolve_algorithm(z.algorithm);
  SearchConfig c;
  c.space.algorithm = &algo;
  c.space.fault_kinds = z.faults.empty() ? supported_fault_kinds(algo) : z.faults;
  c.space.resource = true;
  c.space.fenced = algo.has_fencing_token;
  for (const auto& [key, value] : z.options) c.space.options.set(key, value);
  c.space.options.set("bug", bug ? "true" : "false");
  c.checkers = z.checkers;
  c.seed = 1;
  c.runs = z.runs;
  return c;
}

// The first failing case of the search, if any.
std::optional<uint64_t> first_failure(const SearchConfig& c) {
  for (const CaseResult& r : run_search(Search(c), true))
    if (!r.failed.empty()) return r.index;
  return std::nullopt;
}

class Zoo : public ::testing::TestWithParam<ZooCase> {};

TEST_P(Zoo, TheBugIsFoundAndTheFixHolds) {
  const ZooCase& z = GetParam();
  EXPECT_TRUE(first_failure(zoo_search(z, true)))
      << z.algorithm << " bug=true held in " << z.runs << " runs";
  const auto fixed = first_failure(zoo_search(z, false));
  EXPECT_FALSE(fixed) << z.algorithm << " bug=false failed in case " << fixed.value_or(0);
}

const std::vector<std::string> kLiveness = {"liveness", "liveness-after-quiet"};

// Budgets a little above the runs the 2000-run searches of docs/findings.md took (64,
// 26, 64 and 492), with the same seed, so the buggy ports fail at the same cases.
INSTANTIATE_TEST_SUITE_P(Ports, Zoo,
                         ::testing::Values(ZooCase{"curator-678", {}, kLiveness, 100},
                                           ZooCase{"kazoo-170", {}, kLiveness, 50},
                                           ZooCase{"aiozk-48", {FaultKind::Pause}, kLiveness, 100},
                                           ZooCase{"redis-semaphore-175",
                                                   {FaultKind::Clock},
                                                   {"renewal"},
                                                   500,
                                                   {{"lock_timeout", "1s"}}}),
                         [](const ::testing::TestParamInfo<ZooCase>& info) {
                           std::string name = info.param.algorithm;
                           for (char& ch : name)
                             if (ch == '-') ch = '_';
                           return name;
                         });

}  // namespace
}  // namespace lockstep::sim::search
