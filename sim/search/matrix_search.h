// Running the safety matrix of `lockstep check --all` (what it is and how it is printed:
// sim/search/matrix.h): one search per (algorithm, fault class) cell, in three phases:
// every run of every cell, then a shrink of the first failure of each (cell, checker),
// then the counterexample files and the matrix itself, written to the output directory.
//
// This file starts no thread (sim/ must not): phases 1 and 2 are lists of independent
// steps, and the caller runs run(k) and shrink(j) from as many threads as it likes (each
// index once; distinct indices at the same time). The result is the same for any order.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "sim/search/matrix.h"
#include "sim/search/search.h"

namespace lockstep::sim::search {

struct MatrixConfig {
  std::vector<std::string> algorithms;  // the rows, in order
  uint64_t seed = 1;                    // base seed of every cell's search
  uint64_t runs = 2000;                 // runs per cell
  std::vector<std::string> checkers;    // only these count and are shown; empty: every one
  int max_shrink_runs = 400;
  std::string out_dir;  // an existing directory: counterexamples, matrix.json, matrix.md
  std::string command;  // the command that regenerates the matrix, written into it
};

struct ReplayMismatch {
  std::string scenario_path;
  std::string why;
};

struct MatrixOutcome {
  Matrix matrix;
  std::string json_path, md_path;
  // Counterexamples whose written file did not replay to the same verdict (a bug).
  std::vector<ReplayMismatch> mismatches;
};

// One cell's counts per checker, and the shrunk first failure of a violated checker:
// what the matrix is written from, by a whole search (MatrixSearch::finish) or by a merge
// of shards (lockstep merge).
struct CellCounts {
  std::string algorithm, fault_class;
  std::map<std::string, CheckerTally> tallies;
};
struct ShrunkFailure {
  size_t cell = 0;  // index into the cells
  std::string checker;
  Counterexample result;
};
// Writes each counterexample (replayed from its file), matrix.json and matrix.md into
// config.out_dir. The checkers shown are those the cells report, in the verdicts' order
// (only config.checkers when given).
MatrixOutcome write_matrix(const MatrixConfig& config, const std::vector<CellCounts>& cells,
                           const std::vector<ShrunkFailure>& shrunk);

class MatrixSearch {
 public:
  explicit MatrixSearch(MatrixConfig config);

  // Phase 1: every run of every cell, as one flat list so all cores stay busy.
  size_t run_count() const { return cells_.size() * config_.runs; }
  // Runs step k; true if it failed a checker that counts.
  bool run(size_t k);

  // Phase 2, once every run is done: plans a shrink of the first failing case of each
  // (cell, checker) and returns how many there are.
  size_t plan_shrinks();
  void shrink(size_t j);

  // Phase 3, once every shrink is done: writes each counterexample (replayed from its
  // file) and the matrix as JSON and Markdown into config.out_dir.
  MatrixOutcome finish();

 private:
  struct Cell {
    std::string algorithm, fault_class;
    std::unique_ptr<Search> search;
    // Counted as runs finish (a run at a time, so any --runs fits in memory); the runs of
    // one cell may finish on several threads at once.
    std::unique_ptr<std::mutex> counting;
    std::map<std::string, CheckerTally> tallies;
  };
  struct ShrinkJob {
    size_t cell = 0;
    std::string checker;
    uint64_t case_index = 0;
    Counterexample result;
  };

  MatrixConfig config_;
  std::vector<Cell> cells_;
  std::vector<ShrinkJob> shrinks_;
};

}  // namespace lockstep::sim::search
