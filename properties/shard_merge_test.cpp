// Sharded matrix searches and their merge (cli/matrix_shards.h, cli/shard_manifest.h):
// shards added up give the unsharded matrix byte for byte, the lowest failing case wins,
// and a set of shard files that is not one search is refused. The command-line side
// (lockstep merge on real directories) is properties/merge_test.sh.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "cli/cli_main.h"
#include "cli/matrix_shards.h"
#include "cli/shard_manifest.h"
#include "sim/search/matrix_search.h"

namespace lockstep::cli {
namespace {

namespace search = sim::search;

std::string fresh_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("lockstep-shard-merge-test-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

search::MatrixConfig small_matrix(const std::string& out_dir) {
  search::MatrixConfig c;
  c.algorithms = {"zk-slow", "recipe"};
  c.seed = 3;
  c.runs = 14;
  c.out_dir = out_dir;
  c.command = "test";
  return c;
}

// Every file of a directory, by name.
std::map<std::string, std::string> files(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    out[e.path().filename().string()] = read(e.path().string());
  return out;
}

TEST(ShardMerge, ThreeShardsAddUpToTheUnshardedMatrixByteForByte) {
  const std::string dir = fresh_dir("matrix");
  const search::MatrixConfig cfg = small_matrix(dir);
  search::MatrixSearch whole(cfg);
  for (size_t k = 0; k < whole.run_count(); ++k) whole.run(k);
  const size_t shrinks = whole.plan_shrinks();
  for (size_t j = 0; j < shrinks; ++j) whole.shrink(j);
  const search::MatrixOutcome expected = whole.finish();
  ASSERT_GT(expected.matrix.violated(), 0) << "zk-slow should fail something: too little shown";
  const auto expected_files = files(dir);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);

  const std::vector<MatrixCellSearch> cells = matrix_cells(cfg, search::Shard{0, 1});
  std::vector<CellTallies> sum;
  for (const auto& c : cells) sum.push_back({c.algorithm, c.fault_class, {}});
  for (uint64_t k : {2, 0, 1}) {  // in any order
    const auto part =
        run_matrix_shard(matrix_cells(cfg, search::Shard{k, 3}), 1, [](uint64_t, uint64_t) {});
    // Through the shard file's JSON, as merge reads it.
    add_tallies(sum, tallies_from_json(tallies_to_json(part), "test"), "test");
  }
  const search::MatrixOutcome merged = finish_matrix(cfg, cells, sum, 2);
  EXPECT_TRUE(merged.mismatches.empty());
  EXPECT_EQ(search::matrix_json(merged.matrix), search::matrix_json(expected.matrix));
  EXPECT_EQ(files(dir), expected_files);
  std::filesystem::remove_all(dir);
}

TEST(ShardMerge, CountsAddAndTheLowestFailingCaseWins) {
  std::vector<CellTallies> sum = {{"a", "none", {{"x", {10, 0, -1}}}}};
  add_tallies(sum, {{"a", "none", {{"x", {5, 2, 7}}, {"y", {5, 1, 9}}}}}, "one");
  add_tallies(sum, {{"a", "none", {{"x", {5, 1, 3}}, {"y", {5, 0, -1}}}}}, "two");
  EXPECT_EQ(sum[0].tallies["x"].runs, 20);
  EXPECT_EQ(sum[0].tallies["x"].violations, 3);
  EXPECT_EQ(sum[0].tallies["x"].first_failure, 3);
  EXPECT_EQ(sum[0].tallies["y"].runs, 10);
  EXPECT_EQ(sum[0].tallies["y"].first_failure, 9);
  EXPECT_THROW(add_tallies(sum, {{"b", "none", {}}}, "other"), UsageError);
  EXPECT_THROW(add_tallies(sum, {}, "short"), UsageError);
}

TEST(ShardMerge, SearchArgsDropOnlyWhatDoesNotChangeTheResult) {
  EXPECT_EQ(search_args({"--all", "--shard", "1/4", "--out=x", "--runs", "5", "--jobs", "2",
                         "--seed=3", "--out", "y"}),
            (std::vector<std::string>{"--all", "--runs", "5", "--seed=3"}));
}

ShardManifest shard(uint64_t k, uint64_t n, uint64_t seed = 1) {
  ShardManifest m;
  m.version = "x";  // not this lockstep's: complete_set says so last
  m.shard = {k, n};
  m.identity = {{"mode", "check --all"}, {"seed", seed}};
  m.fingerprint = "f";
  m.path = "dir" + std::to_string(k);
  return m;
}

std::string refusal(std::vector<ShardManifest> shards) {
  try {
    complete_set(std::move(shards));
  } catch (const UsageError& e) {
    return e.message;
  }
  return "";
}

TEST(ShardMerge, ASetThatIsNotOneSearchIsRefusedInOneLine) {
  EXPECT_EQ(refusal({shard(0, 2), shard(1, 2, 5)}),
            "shard 1/2 (dir1) has --seed 5 but shard 0/2 (dir0) has --seed 1: not parts of one "
            "search");
  EXPECT_NE(refusal({shard(0, 2), shard(1, 3)}).find("split the search differently"),
            std::string::npos);
  ShardManifest other = shard(1, 2);
  other.fingerprint = "g";
  EXPECT_NE(refusal({shard(0, 2), other}).find("different builds"), std::string::npos);
  other = shard(1, 2);
  other.version = "y";
  EXPECT_NE(refusal({shard(0, 2), other}).find("is from lockstep y"), std::string::npos);
  // Consistent shards made by another version than this merge's.
  EXPECT_NE(refusal({shard(0, 2), shard(1, 2)}).find("merge with the lockstep that ran them"),
            std::string::npos);
}

TEST(ShardMerge, AMissingOrRepeatedShardIsNamed) {
  auto mine = [](uint64_t k, uint64_t n) {
    ShardManifest m = shard(k, n);
    m.version = version();
    return m;
  };
  EXPECT_EQ(refusal({mine(0, 4), mine(1, 4), mine(2, 4)}), "shard 3/4 missing (3 of 4 given)");
  EXPECT_EQ(refusal({mine(0, 2), mine(0, 2), mine(1, 2)}), "shard 0/2 given twice (dir0, dir0)");
  const auto ordered = complete_set({mine(2, 3), mine(0, 3), mine(1, 3)});
  for (uint64_t k = 0; k < 3; ++k) EXPECT_EQ(ordered[k].shard.index, k);
}

// Found with the merge fuzz harness under UBSan: a number lockstep never writes (1e300 as a
// case or shard number) was converted to an integer with undefined behaviour. Any number
// that is not an integer is refused when the file is read, naming where it is.
TEST(ShardMerge, ANumberThatIsNotAnIntegerIsRefusedWhereItIs) {
  const std::string dir = fresh_dir("float");
  std::ofstream(dir + "/lockstep-shard-0-of-1.json")
      << R"({"lockstep_shard": 1, "version": "0.2.0", "scenario_format": 1,
             "shard": {"index": 0, "count": 1}, "args": [], "identity": {"mode": "check --algo"},
             "fingerprint": "f", "result": {"first_failure": {"case": 1e300}}})";
  try {
    read_manifests(dir);
    ADD_FAILURE() << "read";
  } catch (const UsageError& e) {
    EXPECT_EQ(e.message, dir +
                             "/lockstep-shard-0-of-1.json: not a lockstep shard file "
                             "(result.first_failure.case is 1e+300, not an integer)");
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace lockstep::cli
