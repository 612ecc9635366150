// The matrix run of `lockstep check --all` (sim/search/matrix_search.h) and the
// counterexample files it and `check` write (sim/search/counterexample_writer.h): the
// result does not depend on the order the steps run in, every counterexample replays from
// its file, and the matrix holds a cell per (algorithm, fault class, checker).
#include "sim/search/matrix_search.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "sim/scenario.h"
#include "sim/search/counterexample_writer.h"

namespace lockstep::sim::search {
namespace {

std::string fresh_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("lockstep-matrix-test-" + name + "-" + std::to_string(::getpid()));
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

MatrixConfig small_matrix(const std::string& out_dir) {
  MatrixConfig c;
  c.algorithms = {"zk-slow"};
  c.seed = 3;
  c.runs = 12;
  c.out_dir = out_dir;
  c.command = "test";
  return c;
}

// Runs every phase, the steps of phases 1 and 2 in the order given by `reverse`.
MatrixOutcome run_matrix(MatrixSearch& m, bool reverse) {
  const size_t n = m.run_count();
  for (size_t i = 0; i < n; ++i) m.run(reverse ? n - 1 - i : i);
  const size_t s = m.plan_shrinks();
  for (size_t j = 0; j < s; ++j) m.shrink(reverse ? s - 1 - j : j);
  return m.finish();
}

TEST(MatrixSearch, SameMatrixInAnyOrderAndEveryCounterexampleReplays) {
  const std::string a_dir = fresh_dir("a"), b_dir = fresh_dir("b");
  MatrixSearch a(small_matrix(a_dir)), b(small_matrix(b_dir));
  EXPECT_EQ(a.run_count(), fault_classes().size() * 12);
  const MatrixOutcome ra = run_matrix(a, false), rb = run_matrix(b, true);

  EXPECT_TRUE(ra.mismatches.empty());
  EXPECT_TRUE(rb.mismatches.empty());
  EXPECT_EQ(ra.matrix.cells.size(), fault_classes().size() * ra.matrix.checkers.size());
  EXPECT_GT(ra.matrix.violated(), 0) << "zk-slow should fail something under pauses";
  // The same cells, verdicts and counterexample names; only the directory differs.
  ASSERT_EQ(ra.matrix.cells.size(), rb.matrix.cells.size());
  for (size_t i = 0; i < ra.matrix.cells.size(); ++i) {
    const MatrixCell &x = ra.matrix.cells[i], &y = rb.matrix.cells[i];
    EXPECT_EQ(x.runs, y.runs);
    EXPECT_EQ(x.violations, y.violations);
    EXPECT_EQ(x.summary, y.summary);
    EXPECT_EQ(std::filesystem::path(x.counterexample).filename(),
              std::filesystem::path(y.counterexample).filename());
    if (!x.counterexample.empty()) {
      EXPECT_EQ(read(x.counterexample), read(y.counterexample));
      // Each cell's file is named algorithm-class-checker-seed.json and loads.
      const std::string name = std::filesystem::path(x.counterexample).filename().string();
      EXPECT_EQ(name.rfind(x.algorithm + "-" + x.fault_class + "-" + x.checker + "-", 0), 0u);
      EXPECT_NO_THROW(load_scenario(x.counterexample));
    }
  }
  EXPECT_EQ(ra.json_path, (std::filesystem::path(a_dir) / "matrix.json").string());
  EXPECT_EQ(read(ra.md_path).empty(), false);
  EXPECT_EQ(read(ra.json_path), matrix_json(ra.matrix));
  std::filesystem::remove_all(a_dir);
  std::filesystem::remove_all(b_dir);
}

TEST(MatrixSearch, OnlyTheCheckersAskedForAreShown) {
  const std::string dir = fresh_dir("checkers");
  MatrixConfig c = small_matrix(dir);
  c.checkers = {"mutual-exclusion"};
  MatrixSearch m(c);
  const MatrixOutcome r = run_matrix(m, false);
  EXPECT_EQ(r.matrix.checkers, std::vector<std::string>{"mutual-exclusion"});
  for (const auto& cell : r.matrix.cells) EXPECT_EQ(cell.checker, "mutual-exclusion");
  std::filesystem::remove_all(dir);
}

TEST(CounterexampleWriter, WritesTheScenarioAndTraceAndReplaysThem) {
  SearchConfig c;
  c.space = matrix_space(resolve_algorithm("zk-slow"), "pause");
  c.runs = 60;
  c.checkers = {"mutual-exclusion"};
  const Search s(c);
  std::optional<uint64_t> failing;
  for (uint64_t i = 0; i < c.runs && !failing; ++i)
    if (!s.run_case(i).failed.empty()) failing = i;
  ASSERT_TRUE(failing) << "no zk-slow mutual exclusion failure in 60 pause runs";
  const Counterexample cx = s.shrink(*failing, "mutual-exclusion");

  const std::string dir = fresh_dir("writer");
  const WrittenCounterexample w = write_counterexample(cx, dir, "zk-slow-mutual-exclusion");
  const std::string base = (std::filesystem::path(dir) /
                            ("zk-slow-mutual-exclusion-" + std::to_string(cx.found_in.seed)))
                               .string();
  EXPECT_EQ(w.scenario_path, base + ".json");
  EXPECT_EQ(w.trace_path, base + ".trace.jsonl");
  EXPECT_TRUE(w.replays_same) << w.mismatch;
  EXPECT_EQ(load_scenario(w.scenario_path), cx.minimal);
  std::string trace;
  for (const auto& line : w.replay.trace) trace += line + "\n";
  EXPECT_EQ(read(w.trace_path), trace);
  EXPECT_FALSE(trace.empty());

  // A directory that is not there is an error, not a silent loss.
  EXPECT_THROW(write_counterexample(cx, dir + "/no/such/dir", "x"), std::runtime_error);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace lockstep::sim::search
