// What `lockstep check` and `lockstep merge` share: the check's flags turned into the
// search they define, and the report of a violation (shrink, write, replay, explain).
// `merge` rebuilds a search from the flags its shards recorded, through these same
// functions, so a merged result is made exactly as the unsharded one is.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cli/args.h"
#include "core/lock.h"
#include "sim/search/matrix_search.h"
#include "sim/search/search.h"

namespace lockstep::cli {

// Reads `lockstep check`'s arguments (after "check").
Args check_args(const std::vector<std::string>& argv);

struct CommonFlags {
  uint64_t seed = 1;
  int jobs = 1;
  std::string out_dir = "lockstep-out";
  std::vector<std::string> checkers;
  std::optional<uint64_t> runs;
  std::optional<int> max_shrink;
};
CommonFlags common_flags(const Args& args);

sim::search::Shard parse_shard(const std::string& text);

// The search of `check --algo A`, from its flags.
struct AlgoSearch {
  const AlgorithmInfo* info = nullptr;
  sim::search::SearchConfig config;
  // "faults: pause, crash; resource: fenced", as the result line says it.
  std::string space;
  std::vector<std::string> options;  // --option KEY=VALUE, as given
};
AlgoSearch algo_search(const Args& args, const CommonFlags& common);

// The matrix of `check --all`, from its flags (the command it records names
// common.out_dir).
sim::search::MatrixConfig matrix_config(const Args& args, const CommonFlags& common);

// Case `index` of `search` fails `checker`: shrinks it, writes the counterexample to
// `out_dir`, replays the file and explains it on stdout. `shard` is "" or " (shard K/N)";
// `runs_done` the runs this search made up to and including the case. Returns the exit
// status: 1, or 3 when the written file does not replay the same way.
int report_violation(const sim::search::Search& search, const std::string& algorithm,
                     uint64_t index, const std::string& checker, const std::string& out_dir,
                     const std::string& shard, const std::string& space, uint64_t runs_done);

// This program's name: `lockstep`, or a user's own program built on cli_main.
std::string program_name();

}  // namespace lockstep::cli
