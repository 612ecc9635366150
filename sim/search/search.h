// The property search behind `lockstep check`: generate scenarios, run each in the
// simulator, and shrink a failing one to a minimal counterexample.
//
// It is deterministic by construction. Case i is generated from its own seed,
// splitmix64(base_seed + i), at a size from a fixed schedule, so any case can be
// regenerated alone: a shard or a thread runs its cases in any order and gets the same
// results. This file never starts a thread (sim/ must not): callers that want several
// cores call run_case() from their own threads (every method is const and the worlds
// share nothing).
#pragma once

#include <rapidcheck.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/check/checker.h"
#include "sim/run.h"
#include "sim/scenario.h"
#include "sim/search/generators.h"

namespace lockstep::sim::search {

uint64_t splitmix64(uint64_t x);

// "K/N": this process takes the cases i with i % N == K.
struct Shard {
  uint64_t index = 0;
  uint64_t count = 1;
};

struct SearchConfig {
  SearchSpace space;
  uint64_t seed = 1;  // base seed
  uint64_t runs = 100;
  Shard shard;
  // The checkers whose failure counts; empty: every verdict the run reports.
  std::vector<std::string> checkers;
  // Simulated runs a shrink may spend before it settles for what it has.
  int max_shrink_runs = 400;
};

// Where case i comes from.
struct CaseId {
  uint64_t index = 0;
  uint64_t seed = 0;  // the rc::Random seed it is generated from
  int size = 0;       // the RapidCheck size
};

struct CaseResult {
  uint64_t index = 0;
  std::vector<std::string> checkers;  // every checker that reported, in verdict order
  std::vector<std::string> failed;    // those of them that count and failed
  int64_t events = 0;                 // simulated events (a measure of its cost)
  bool operator==(const CaseResult&) const = default;
};

struct Counterexample {
  std::string checker;  // the checker it fails
  CaseId found_in;
  Scenario original;           // the case as generated
  Scenario minimal;            // the smallest shrink that still fails `checker`
  Verdict verdict;             // `checker`'s verdict on `minimal`
  int shrink_steps = 0;        // shrinks taken
  int shrink_runs = 0;         // simulated runs spent shrinking
  bool shrink_capped = false;  // stopped by max_shrink_runs, maybe not minimal
};

// The verdict of `checker` in a run, if it reported one.
const Verdict* find_verdict(const RunResult& r, const std::string& checker);

// The most runs a search (or a matrix cell) may ask for: a million million, some eight
// years of one core at today's rates, so anything above it is a slip of the keyboard. A
// search keeps nothing a run, so the bound is not about memory; it keeps a cell's step
// numbers (runs x cells) far inside 64 bits.
inline constexpr uint64_t kMaxRuns = 1'000'000'000'000;

class Search {
 public:
  explicit Search(SearchConfig config);

  const SearchConfig& config() const { return config_; }
  // This shard's case indices among 0 .. runs-1, in increasing order.
  std::vector<uint64_t> cases() const;
  // How many cases() holds, without making the list (a search may have any --runs).
  uint64_t case_count() const;
  // The k-th of cases() (k < case_count()), without making the list.
  uint64_t case_at(uint64_t k) const { return config_.shard.index + k * config_.shard.count; }
  CaseId case_id(uint64_t i) const;
  rc::Shrinkable<Scenario> generate(uint64_t i) const;
  // Generates case i, runs it (without a trace) and says which checkers failed.
  CaseResult run_case(uint64_t i) const;
  // Does `s` still fail `checker`?
  bool fails(const Scenario& s, const std::string& checker) const;
  // Shrinks case i against `checker` (which it must fail): greedily takes the first shrink
  // that still fails that same checker, until none does or the run budget is spent.
  Counterexample shrink(uint64_t i, const std::string& checker) const;

 private:
  SearchConfig config_;
  rc::Gen<Scenario> gen_;
};

// The whole search on the calling thread: every case of the shard, in order. With
// `stop_at_failure`, stops after the first case that fails.
std::vector<CaseResult> run_search(const Search& search, bool stop_at_failure);

}  // namespace lockstep::sim::search
