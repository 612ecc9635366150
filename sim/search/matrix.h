// The safety matrix of `lockstep check --all`: every algorithm of the catalogue under
// every fault class, one cell per checker, each "holds in N runs" or the path of its
// minimal counterexample. This file holds what the matrix is (fault classes, the search
// space of a cell, the tally of a cell's runs) and how it is written (table, JSON,
// Markdown); the command runs the searches.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/search/generators.h"
#include "sim/search/search.h"

namespace lockstep::sim::search {

struct FaultClass {
  std::string name;              // as the matrix and --faults name it: "lost-reply"
  std::vector<FaultKind> kinds;  // its fault kinds ("all": every kind the algorithm supports)
  std::string meaning;           // one line for the docs and the table's legend
};

// none, pause, clock, partition, lost-reply, crash, all: in that order.
const std::vector<FaultClass>& fault_classes();

// The fault kinds of a class (or of a fault kind's own name or alias) for an algorithm;
// throws std::invalid_argument for a name that is neither.
std::vector<FaultKind> fault_class_kinds(const std::string& name, const AlgorithmInfo& algorithm,
                                         int stores = 0);

// What a matrix cell searches: the class's fault kinds (at least one fault per scenario
// except in "none"), and a resource in every critical
// section: fenced for algorithms with a token (the fencing and lost-update cells then ask
// whether fencing saves them), unfenced for those without one (the cells show the damage).
SearchSpace matrix_space(const AlgorithmInfo& algorithm, const std::string& fault_class);

// The checkers in the order tables list them: the safety checkers first, then any other
// name, alphabetically.
std::vector<std::string> order_checkers(std::vector<std::string> names);

// What the runs of one search said about each checker.
struct CheckerTally {
  int64_t runs = 0;            // runs in which it reported a verdict
  int64_t violations = 0;      // ... and failed
  int64_t first_failure = -1;  // the lowest case index that failed it
};
std::map<std::string, CheckerTally> tally(const std::vector<CaseResult>& results);
// Counts one more run into `tallies`: what tally() does, a run at a time, so a search of
// any length keeps no per-run state. The order of the runs does not matter.
void add_to_tally(std::map<std::string, CheckerTally>& tallies, const CaseResult& r);

struct MatrixCell {
  std::string algorithm, fault_class, checker;
  int64_t runs = 0;  // 0: the checker never applied (no resource, ...)
  int64_t violations = 0;
  std::string counterexample;  // the minimal counterexample's scenario file, if violated
  std::string summary;         // the checker's verdict on it
  int faults = 0;              // faults left in the minimal counterexample
};

struct Matrix {
  uint64_t seed = 1;
  uint64_t runs = 0;    // runs per (algorithm, fault class)
  std::string command;  // the command that regenerates it
  std::vector<std::string> algorithms;
  std::vector<std::string> classes;
  std::vector<std::string> checkers;
  std::vector<MatrixCell> cells;
  const MatrixCell* find(const std::string& algorithm, const std::string& fault_class,
                         const std::string& checker) const;
  int violated() const;  // cells with a counterexample
};

std::string matrix_json(const Matrix& m);
std::string matrix_markdown(const Matrix& m);
// For a terminal: "ok" / "FAIL n" / "-" cells, then one line per counterexample.
std::string matrix_table(const Matrix& m);

}  // namespace lockstep::sim::search
