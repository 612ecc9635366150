#include "sim/search/matrix_search.h"

#include <algorithm>
#include <filesystem>

#include "sim/search/counterexample_writer.h"

namespace lockstep::sim::search {

MatrixSearch::MatrixSearch(MatrixConfig config) : config_(std::move(config)) {
  for (const auto& algorithm : config_.algorithms) {
    const AlgorithmInfo& info = resolve_algorithm(algorithm);  // the row's one lookup
    for (const auto& fc : fault_classes()) {
      SearchConfig cfg;
      cfg.space = matrix_space(info, fc.name);
      cfg.seed = config_.seed;
      cfg.runs = config_.runs;
      cfg.checkers = config_.checkers;
      cfg.max_shrink_runs = config_.max_shrink_runs;
      cells_.push_back(Cell{.algorithm = algorithm,
                            .fault_class = fc.name,
                            .search = std::make_unique<Search>(cfg),
                            .counting = std::make_unique<std::mutex>(),
                            .tallies = {}});
    }
  }
}

bool MatrixSearch::run(size_t k) {
  Cell& c = cells_[k / config_.runs];
  const CaseResult r = c.search->run_case(k % config_.runs);
  const std::lock_guard<std::mutex> guard(*c.counting);
  add_to_tally(c.tallies, r);
  return !r.failed.empty();
}

size_t MatrixSearch::plan_shrinks() {
  shrinks_.clear();
  for (size_t i = 0; i < cells_.size(); ++i) {
    for (const auto& [name, t] : cells_[i].tallies)
      if (t.first_failure >= 0)
        shrinks_.push_back(ShrinkJob{i, name, static_cast<uint64_t>(t.first_failure), {}});
  }
  return shrinks_.size();
}

void MatrixSearch::shrink(size_t j) {
  ShrinkJob& s = shrinks_[j];
  s.result = cells_[s.cell].search->shrink(s.case_index, s.checker);
}

MatrixOutcome MatrixSearch::finish() {
  std::vector<CellCounts> cells;
  for (const Cell& cell : cells_) cells.push_back({cell.algorithm, cell.fault_class, cell.tallies});
  std::vector<ShrunkFailure> shrunk;
  for (const ShrinkJob& s : shrinks_) shrunk.push_back({s.cell, s.checker, s.result});
  return write_matrix(config_, cells, shrunk);
}

MatrixOutcome write_matrix(const MatrixConfig& config, const std::vector<CellCounts>& cells,
                           const std::vector<ShrunkFailure>& shrunk) {
  std::vector<std::string> reported;
  for (const CellCounts& cell : cells)
    for (const auto& [name, t] : cell.tallies) reported.push_back(name);
  MatrixOutcome out;
  Matrix& m = out.matrix;
  m.seed = config.seed;
  m.runs = config.runs;
  m.command = config.command;
  m.algorithms = config.algorithms;
  for (const auto& fc : fault_classes()) m.classes.push_back(fc.name);
  m.checkers = order_checkers(reported);
  if (!config.checkers.empty()) {
    std::vector<std::string> kept;
    for (const auto& c : m.checkers)
      if (std::find(config.checkers.begin(), config.checkers.end(), c) != config.checkers.end())
        kept.push_back(c);
    m.checkers = kept;
  }

  for (size_t i = 0; i < cells.size(); ++i) {
    const CellCounts& cell = cells[i];
    for (const auto& checker : m.checkers) {
      MatrixCell mc;
      mc.algorithm = cell.algorithm;
      mc.fault_class = cell.fault_class;
      mc.checker = checker;
      auto t = cell.tallies.find(checker);
      if (t != cell.tallies.end()) {
        mc.runs = t->second.runs;
        mc.violations = t->second.violations;
      }
      for (const ShrunkFailure& s : shrunk) {
        if (s.cell != i || s.checker != checker) continue;
        const WrittenCounterexample w = write_counterexample(
            s.result, config.out_dir, mc.algorithm + "-" + mc.fault_class + "-" + checker);
        if (!w.replays_same) out.mismatches.push_back({w.scenario_path, w.mismatch});
        mc.counterexample = w.scenario_path;
        mc.summary = s.result.verdict.summary;
        mc.faults = static_cast<int>(s.result.minimal.faults.size());
      }
      m.cells.push_back(mc);
    }
  }
  out.json_path = (std::filesystem::path(config.out_dir) / "matrix.json").string();
  out.md_path = (std::filesystem::path(config.out_dir) / "matrix.md").string();
  write_text_file(out.json_path, matrix_json(m));
  write_text_file(out.md_path, matrix_markdown(m));
  return out;
}

}  // namespace lockstep::sim::search
