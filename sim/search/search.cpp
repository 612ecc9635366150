#include "sim/search/search.h"

#include <algorithm>

#include "core/prng.h"

namespace lockstep::sim::search {

uint64_t splitmix64(uint64_t x) { return Prng::splitmix64(x); }

const Verdict* find_verdict(const RunResult& r, const std::string& checker) {
  for (const auto& v : r.verdicts)
    if (v.checker == checker) return &v;
  return nullptr;
}

Search::Search(SearchConfig config)
    : config_(std::move(config)), gen_(gen_scenario(config_.space)) {
  if (config_.shard.count == 0) config_.shard.count = 1;
}

std::vector<uint64_t> Search::cases() const {
  std::vector<uint64_t> out;
  for (uint64_t k = 0; k < case_count(); ++k) out.push_back(case_at(k));
  return out;
}

uint64_t Search::case_count() const {
  const uint64_t k = config_.shard.index, n = config_.shard.count;
  return k < config_.runs ? (config_.runs - k - 1) / n + 1 : 0;
}

CaseId Search::case_id(uint64_t i) const {
  // Sizes sweep 0..100 over and over: the first cases of every sweep are small and cheap,
  // and a long search keeps coming back to small ones instead of only growing.
  return CaseId{i, splitmix64(config_.seed + i),
                static_cast<int>(std::min<uint64_t>(100, i % 101))};
}

rc::Shrinkable<Scenario> Search::generate(uint64_t i) const {
  const CaseId id = case_id(i);
  return gen_(rc::Random(id.seed), id.size);
}

CaseResult Search::run_case(uint64_t i) const {
  CaseResult out;
  out.index = i;
  const Scenario s = generate(i).value();
  const RunResult r = run_scenario(s, RunOptions{false});
  out.events = r.stats.events;
  for (const auto& v : r.verdicts) {
    out.checkers.push_back(v.checker);
    const bool counts = config_.checkers.empty() ||
                        std::find(config_.checkers.begin(), config_.checkers.end(), v.checker) !=
                            config_.checkers.end();
    if (counts && !v.ok) out.failed.push_back(v.checker);
  }
  return out;
}

bool Search::fails(const Scenario& s, const std::string& checker) const {
  const RunResult r = run_scenario(s, RunOptions{false});
  const Verdict* v = find_verdict(r, checker);
  return v && !v->ok;
}

Counterexample Search::shrink(uint64_t i, const std::string& checker) const {
  Counterexample out;
  out.checker = checker;
  out.found_in = case_id(i);
  rc::Shrinkable<Scenario> current = generate(i);
  out.original = current.value();
  Scenario value = out.original;

  bool progressed = true;
  while (progressed && !out.shrink_capped) {
    progressed = false;
    rc::Seq<rc::Shrinkable<Scenario>> shrinks = current.shrinks();
    while (rc::Maybe<rc::Shrinkable<Scenario>> next = shrinks.next()) {
      Scenario candidate = next->value();
      // A shrink of a part the scenario does not use (a clamped index, an unused field)
      // gives the same scenario again: no need to run it.
      if (candidate == value) continue;
      if (out.shrink_runs >= config_.max_shrink_runs) {
        out.shrink_capped = true;
        break;
      }
      ++out.shrink_runs;
      if (fails(candidate, checker)) {
        current = std::move(*next);
        value = std::move(candidate);
        ++out.shrink_steps;
        progressed = true;
        break;
      }
    }
  }
  out.minimal = value;
  const RunResult r = run_scenario(value, RunOptions{false});
  if (const Verdict* v = find_verdict(r, checker)) out.verdict = *v;
  return out;
}

std::vector<CaseResult> run_search(const Search& search, bool stop_at_failure) {
  std::vector<CaseResult> out;
  for (uint64_t k = 0; k < search.case_count(); ++k) {
    out.push_back(search.run_case(search.case_at(k)));
    if (stop_at_failure && !out.back().failed.empty()) break;
  }
  return out;
}

}  // namespace lockstep::sim::search
