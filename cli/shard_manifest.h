// The file a shard of `lockstep check --shard K/N` leaves in its --out directory,
// DIR/lockstep-shard-K-of-N.json, and the checks `lockstep merge` makes before it trusts
// a set of them: one search (same flags, same lockstep, same generated cases), every
// shard once. docs/check.md ("Sharded searches and merge") describes the format.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/check_search.h"

namespace lockstep::cli {

struct MatrixCellSearch;

struct ShardManifest {
  std::string version;  // lockstep's
  int scenario_format = 0;
  sim::search::Shard shard;
  // The check's arguments without --shard, --out and --jobs (which do not change the
  // result): `merge` rebuilds the search from them.
  std::vector<std::string> args;
  // What must be equal across the shards of one search, resolved (defaults filled in):
  // mode, algorithms, seed, runs, checkers, max_shrink, and for --algo the search space.
  nlohmann::ordered_json identity;
  // A hash of a few generated cases: shards (or a merge) built from different sources
  // generate different cases even where the version number is the same.
  std::string fingerprint;
  nlohmann::ordered_json result;  // the shard's findings: matrix_shards.h, check --algo
  std::string path;               // where it was read from
};

// The manifest of `check --algo` / `check --all` (without args, shard and result).
ShardManifest algo_manifest(const AlgoSearch& setup, const sim::search::Search& search);
ShardManifest matrix_manifest(const sim::search::MatrixConfig& cfg,
                              const std::vector<MatrixCellSearch>& cells);
std::string fingerprint(const std::vector<const sim::search::Search*>& searches);

// `argv` without the flags that do not change a search's result.
std::vector<std::string> search_args(const std::vector<std::string>& argv);

// Writes DIR/lockstep-shard-K-of-N.json; returns its path.
std::string write_manifest(const std::string& dir, const ShardManifest& m);

// Every shard file in `dir`; UsageError for a file that is not one, or none at all.
std::vector<ShardManifest> read_manifests(const std::string& dir);

// Checks that `shards` are the N distinct parts of one search, made by this lockstep;
// returns them ordered by K. UsageError, one line, otherwise ("shard 3/4 missing").
std::vector<ShardManifest> complete_set(std::vector<ShardManifest> shards);

}  // namespace lockstep::cli
