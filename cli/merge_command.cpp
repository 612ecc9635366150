// `lockstep merge`: the shards of a `check --shard K/N` search back into the result the
// unsharded search gives, byte for byte: the same verdicts, counts, counterexample files
// and (for --all) matrix.json / matrix.md. It refuses shards that are not the N parts of
// one search.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "cli/args.h"
#include "cli/check_search.h"
#include "cli/commands.h"
#include "cli/matrix_shards.h"
#include "cli/shard_manifest.h"
#include "core/json.h"

namespace lockstep::cli {

namespace {

namespace search = sim::search;

const char* kMergeHelp =
    R"(usage: lockstep merge DIR... --out DIR [--jobs J]

Combines the shards of one search, each run as `lockstep check ... --shard K/N --out
DIR_K` (K = 0..N-1), into the result of the unsharded search with the same flags, byte
for byte: for `check --all`, matrix.json, matrix.md and every counterexample file; for
`check --algo`, the lowest failing case's counterexample and its explanation. Each shard
leaves DIR_K/lockstep-shard-K-of-N.json; a DIR may hold several shards' files (a shared
directory). The shrinking the matrix needs happens here, once per violated cell, on
--jobs threads.

Refused, with one line and status 2: shards of different searches (seed, runs,
algorithms, checkers, faults, ...) or of different lockstep builds, a shard given twice,
a missing shard ("shard 3/4 missing"), a shard file whose recorded failure does not
fail when merge runs that case again.

  --out DIR     where the merged result goes (not one of the shard directories). The
                result names DIR in its paths and in matrix.json's command, as the
                unsharded run names its --out: compare runs made with the same --out
  --jobs J      threads for the shrinks (default: the number of cores)
  --help        this text

Exit status: as the unsharded check: 0 every run held, 1 a checker was violated, 2 bad
input, 3 a counterexample did not replay the same way.
)";

using Clock = std::chrono::steady_clock;

// A shard dir's path as given, compared by what it names.
bool same_dir(const std::string& a, const std::string& b) {
  std::error_code ec;
  return std::filesystem::equivalent(a, b, ec);
}

int merge_matrix(const std::vector<ShardManifest>& shards, const Args& args,
                 const CommonFlags& common) {
  const search::MatrixConfig cfg = matrix_config(args, common);
  const std::vector<MatrixCellSearch> cells = matrix_cells(cfg, search::Shard{0, 1});
  std::vector<CellTallies> sum;
  for (const auto& c : cells) sum.push_back({c.algorithm, c.fault_class, {}});
  uint64_t runs = 0;
  for (const ShardManifest& m : shards) {
    const std::vector<CellTallies> part = tallies_from_json(m.result, m.path);
    add_tallies(sum, part, m.path);
    runs += m.result.value("runs", uint64_t{0});
  }
  const auto start = Clock::now();
  const search::MatrixOutcome result = finish_matrix(cfg, cells, sum, common.jobs);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  for (const auto& mismatch : result.mismatches)
    std::cerr << "merge: REPLAY MISMATCH for " << mismatch.scenario_path << ": " << mismatch.why
              << "\n";
  std::cout << search::matrix_table(result.matrix);
  char line[200];
  std::snprintf(
      line, sizeof line, "\nmerged %zu shards (%llu runs); %d violated cells shrunk in %.1fs\n",
      shards.size(), static_cast<unsigned long long>(runs), result.matrix.violated(), seconds);
  std::cout << line << "matrix: " << result.md_path << ", " << result.json_path << "\n";
  if (!result.mismatches.empty()) return 3;
  return result.matrix.violated() > 0 ? 1 : 0;
}

int merge_one(const std::vector<ShardManifest>& shards, const Args& args,
              const CommonFlags& common) {
  const AlgoSearch setup = algo_search(args, common);
  const search::Search search(setup.config);
  // The lowest failing case over the shards is the unsharded search's first: every case
  // below a shard's first failure ran in that shard and held.
  std::optional<uint64_t> first;
  std::string checker, first_path;
  uint64_t held = 0;
  for (const ShardManifest& m : shards) {
    search::SearchConfig part = setup.config;
    part.shard = m.shard;
    const uint64_t expected = search::Search(part).case_count();
    try {
      const auto& f = m.result.at("first_failure");
      if (f.is_null()) {
        if (m.result.at("cases").get<uint64_t>() != expected)
          throw UsageError{m.path + ": " + m.result.at("cases").dump() + " cases, expected " +
                           std::to_string(expected)};
        held += expected;
        continue;
      }
      const uint64_t index = f.at("case").get<uint64_t>();
      if (index % m.shard.count != m.shard.index || index >= setup.config.runs)
        throw UsageError{m.path + ": case " + std::to_string(index) + " is not one of its shard's"};
      if (!first || index < *first) {
        first = index;
        checker = f.at("checker").get<std::string>();
        first_path = m.path;
      }
    } catch (const nlohmann::json::exception& e) {
      throw UsageError{m.path + ": not a lockstep shard file (" + e.what() + ")"};
    }
  }
  if (!first) {
    std::cout << setup.info->name << ": all " << held << " runs held (" << setup.space << "; seed "
              << setup.config.seed << "; merged from " << shards.size() << " shards)\n";
    return 0;
  }
  // The file's word is checked before it is reported: a shard file edited by hand or damaged
  // would otherwise be shrunk and written as a violation that does not replay.
  if (!search.fails(search.generate(*first).value(), checker))
    throw UsageError{first_path + ": case " + std::to_string(*first) + " does not fail " +
                     json_quote(checker) + " (the file does not match this search)"};
  return report_violation(search, setup.info->name, *first, checker, common.out_dir, "",
                          setup.space, *first + 1);
}

}  // namespace

int merge_command(const std::vector<std::string>& argv) {
  const Args args(argv, {"--out", "--jobs"}, {"--help"});
  if (args.has("--help")) {
    std::cout << kMergeHelp;
    return 0;
  }
  const auto out = args.value("--out");
  if (!out || out->empty()) throw UsageError{"--out DIR is required (see --help)"};
  if (args.positional().empty()) throw UsageError{"give the shards' directories (see --help)"};
  std::vector<ShardManifest> shards;
  for (const auto& dir : args.positional()) {
    if (same_dir(dir, *out))
      throw UsageError{"--out: \"" + *out + "\" is one of the shard directories"};
    for (auto& m : read_manifests(dir)) shards.push_back(std::move(m));
  }
  shards = complete_set(std::move(shards));

  // The search, rebuilt from the flags the shards ran, with this merge's --out and --jobs.
  std::vector<std::string> check_argv = shards.front().args;
  check_argv.push_back("--out");
  check_argv.push_back(*out);
  if (auto jobs = args.value("--jobs")) {
    check_argv.push_back("--jobs");
    check_argv.push_back(*jobs);
  }
  const Args check = check_args(check_argv);
  const CommonFlags common = common_flags(check);
  std::error_code ec;
  std::filesystem::create_directories(*out, ec);
  if (!std::filesystem::is_directory(*out))
    throw UsageError{"--out: cannot create directory \"" + *out + "\""};

  ShardManifest mine;
  if (check.has("--all")) {
    const search::MatrixConfig cfg = matrix_config(check, common);
    mine = matrix_manifest(cfg, matrix_cells(cfg, search::Shard{0, 1}));
  } else {
    const AlgoSearch setup = algo_search(check, common);
    mine = algo_manifest(setup, search::Search(setup.config));
  }
  if (mine.fingerprint != shards.front().fingerprint || mine.identity != shards.front().identity)
    throw UsageError{"the shards were made by a different build of lockstep " +
                     shards.front().version + " (their generated cases differ from this one's)"};
  return check.has("--all") ? merge_matrix(shards, check, common)
                            : merge_one(shards, check, common);
}

}  // namespace lockstep::cli
