#include "cli/matrix_shards.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <mutex>

#include "cli/args.h"
#include "cli/parallel.h"
#include "core/json.h"
#include "core/lock.h"
#include "sim/search/counterexample_writer.h"

namespace lockstep::cli {

namespace search = sim::search;
using nlohmann::ordered_json;

std::vector<MatrixCellSearch> matrix_cells(const search::MatrixConfig& cfg,
                                           const search::Shard& shard) {
  std::vector<MatrixCellSearch> cells;
  for (const auto& algorithm : cfg.algorithms) {
    const AlgorithmInfo& info = resolve_algorithm(algorithm);
    for (const auto& fc : search::fault_classes()) {
      search::SearchConfig c;
      c.space = search::matrix_space(info, fc.name);
      c.seed = cfg.seed;
      c.runs = cfg.runs;
      c.checkers = cfg.checkers;
      c.max_shrink_runs = cfg.max_shrink_runs;
      c.shard = shard;
      cells.push_back({algorithm, fc.name, std::make_unique<search::Search>(c)});
    }
  }
  return cells;
}

std::vector<CellTallies> run_matrix_shard(const std::vector<MatrixCellSearch>& cells, int jobs,
                                          const std::function<void(uint64_t, uint64_t)>& tick) {
  // One flat numbering of (cell, case) steps, as MatrixSearch runs them, so every core stays
  // busy: step k is in the cell whose first step is the last of `first_step` not above k.
  // Each run is counted as it ends; nothing is kept a run, so any --runs fits in memory.
  std::vector<uint64_t> first_step;
  uint64_t total = 0;
  for (const auto& cell : cells) {
    first_step.push_back(total);
    total += cell.search->case_count();
  }
  std::vector<CellTallies> out;
  for (const auto& cell : cells) out.push_back({cell.algorithm, cell.fault_class, {}});
  std::mutex counting;
  std::atomic<uint64_t> done{0}, violations{0};
  parallel_for(
      total, jobs,
      [&](size_t k) {
        const size_t c =
            std::upper_bound(first_step.begin(), first_step.end(), k) - first_step.begin() - 1;
        const search::Search& s = *cells[c].search;
        const search::CaseResult r = s.run_case(s.case_at(k - first_step[c]));
        if (!r.failed.empty()) ++violations;
        {
          const std::lock_guard<std::mutex> guard(counting);
          search::add_to_tally(out[c].tallies, r);
        }
        ++done;
      },
      nullptr, [&] { tick(done, violations); });
  return out;
}

ordered_json tallies_to_json(const std::vector<CellTallies>& cells) {
  ordered_json list = ordered_json::array();
  for (const auto& c : cells) {
    ordered_json checkers = ordered_json::object();
    for (const auto& [name, t] : c.tallies)
      checkers[name] = {
          {"runs", t.runs}, {"violations", t.violations}, {"first_failure", t.first_failure}};
    list.push_back({{"algorithm", c.algorithm}, {"faults", c.fault_class}, {"checkers", checkers}});
  }
  return {{"cells", list}};
}

std::vector<CellTallies> tallies_from_json(const ordered_json& j, const std::string& where) {
  std::vector<CellTallies> out;
  try {
    for (const auto& c : j.at("cells")) {
      CellTallies cell{c.at("algorithm").get<std::string>(), c.at("faults").get<std::string>(), {}};
      for (const auto& [name, t] : c.at("checkers").items())
        cell.tallies[name] = {t.at("runs").get<int64_t>(), t.at("violations").get<int64_t>(),
                              t.at("first_failure").get<int64_t>()};
      out.push_back(std::move(cell));
    }
  } catch (const nlohmann::json::exception& e) {
    throw UsageError{where + ": not a lockstep shard file (" + e.what() + ")"};
  }
  return out;
}

void add_tallies(std::vector<CellTallies>& sum, const std::vector<CellTallies>& part,
                 const std::string& where) {
  if (part.size() != sum.size())
    throw UsageError{where + ": " + std::to_string(part.size()) + " matrix cells, expected " +
                     std::to_string(sum.size())};
  for (size_t i = 0; i < sum.size(); ++i) {
    if (part[i].algorithm != sum[i].algorithm || part[i].fault_class != sum[i].fault_class)
      throw UsageError{where + ": cell " + std::to_string(i) + " is " + part[i].algorithm + "/" +
                       part[i].fault_class + ", expected " + sum[i].algorithm + "/" +
                       sum[i].fault_class};
    for (const auto& [name, t] : part[i].tallies) {
      search::CheckerTally& s = sum[i].tallies[name];
      s.runs += t.runs;
      s.violations += t.violations;
      if (t.first_failure >= 0 && (s.first_failure < 0 || t.first_failure < s.first_failure))
        s.first_failure = t.first_failure;
    }
  }
}

search::MatrixOutcome finish_matrix(const search::MatrixConfig& cfg,
                                    const std::vector<MatrixCellSearch>& cells,
                                    const std::vector<CellTallies>& tallies, int jobs) {
  // What MatrixSearch::plan_shrinks and shrink do, from the added-up tallies; the matrix
  // is then written by the same code as a whole search's.
  struct ShrinkJob {
    size_t cell;
    std::string checker;
    uint64_t case_index;
    search::Counterexample result;
  };
  std::vector<ShrinkJob> shrinks;
  for (size_t i = 0; i < tallies.size(); ++i)
    for (const auto& [name, t] : tallies[i].tallies)
      if (t.first_failure >= 0)
        shrinks.push_back({i, name, static_cast<uint64_t>(t.first_failure), {}});
  // The shard files' word is checked before it is shrunk: a file edited by hand or damaged
  // would otherwise give a violation that does not replay.
  for (const ShrinkJob& s : shrinks) {
    const search::Search& search = *cells[s.cell].search;
    if (!search.fails(search.generate(s.case_index).value(), s.checker))
      throw UsageError{"the shards say case " + std::to_string(s.case_index) + " of " +
                       cells[s.cell].algorithm + "/" + cells[s.cell].fault_class + " fails " +
                       json_quote(s.checker) +
                       ", it does not (a shard file does not match this search)"};
  }
  parallel_for(shrinks.size(), jobs, [&](size_t j) {
    ShrinkJob& s = shrinks[j];
    s.result = cells[s.cell].search->shrink(s.case_index, s.checker);
  });

  std::vector<search::ShrunkFailure> shrunk;
  for (ShrinkJob& s : shrinks) shrunk.push_back({s.cell, s.checker, std::move(s.result)});
  return search::write_matrix(cfg, tallies, shrunk);
}

}  // namespace lockstep::cli
