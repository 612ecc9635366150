// The safety matrix in parts: `check --all --shard K/N` runs the cases i with i % N == K
// of every cell and keeps, per (cell, checker), the runs, the violations and the lowest
// failing case; `merge` adds the parts up, shrinks each (cell, checker)'s lowest failing
// case once, and writes the counterexamples and matrix.json / matrix.md exactly as the
// unsharded `check --all` (sim/search/matrix_search.h) does: the same per-cell searches,
// the same tallies, the same shrink, the same files.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/search/matrix.h"
#include "sim/search/matrix_search.h"
#include "sim/search/search.h"

namespace lockstep::cli {

// One cell's search, configured as MatrixSearch configures it, restricted to a shard.
struct MatrixCellSearch {
  std::string algorithm, fault_class;
  std::unique_ptr<sim::search::Search> search;
};
std::vector<MatrixCellSearch> matrix_cells(const sim::search::MatrixConfig& cfg,
                                           const sim::search::Shard& shard);

using CellTallies = sim::search::CellCounts;

// Runs every case of every cell on `jobs` threads; `tick(done, violating runs)` is called
// from the waiting thread for a progress line.
std::vector<CellTallies> run_matrix_shard(const std::vector<MatrixCellSearch>& cells, int jobs,
                                          const std::function<void(uint64_t, uint64_t)>& tick);

nlohmann::ordered_json tallies_to_json(const std::vector<CellTallies>& cells);
// `where` names the file in a refusal.
std::vector<CellTallies> tallies_from_json(const nlohmann::ordered_json& j,
                                           const std::string& where);
// Adds `part` (the same cells, in the same order) into `sum`: counts add, the lowest
// failing case is the lowest of both.
void add_tallies(std::vector<CellTallies>& sum, const std::vector<CellTallies>& part,
                 const std::string& where);

// Shrinks each (cell, checker)'s lowest failing case (on `jobs` threads), writes the
// counterexamples, matrix.json and matrix.md into cfg.out_dir. `cells` must be unsharded.
sim::search::MatrixOutcome finish_matrix(const sim::search::MatrixConfig& cfg,
                                         const std::vector<MatrixCellSearch>& cells,
                                         const std::vector<CellTallies>& tallies, int jobs);

}  // namespace lockstep::cli
