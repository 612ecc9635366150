// The published results stay true: every counterexample under docs/counterexamples/
// replays and fails the checker its name says, and every scenario under
// docs/regressions/ (counterexamples that were lockstep's own bugs, since fixed) replays
// with every checker passing.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "core/check/judge.h"
#include "sim/run.h"
#include "sim/scenario.h"

namespace lockstep::sim {
namespace {

std::filesystem::path docs_dir(const char* name) {
  return std::filesystem::path(__FILE__).parent_path().parent_path() / "docs" / name;
}

std::vector<std::filesystem::path> scenarios_in(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  if (!std::filesystem::is_directory(dir)) return out;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.path().extension() == ".json") out.push_back(entry.path());
  std::sort(out.begin(), out.end());
  return out;
}

// The checker a counterexample's file name carries (<algorithm>-<checker>-<class>.json).
std::string checker_named_in(const std::string& file) {
  // Longest first: "liveness" is a prefix of "liveness-after-quiet".
  std::vector<std::string> names;
  for (const CheckerRow& row : checker_table()) names.emplace_back(row.name);
  std::stable_sort(names.begin(), names.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  for (const std::string& c : names)
    if (file.find("-" + c + "-") != std::string::npos) return c;
  return "";
}

std::string failed_checkers(const RunResult& r) {
  std::string out;
  for (const auto& v : r.verdicts)
    if (!v.ok) out += (out.empty() ? "" : ", ") + v.checker + ": " + v.summary;
  return out.empty() ? "none" : out;
}

TEST(Findings, EveryCounterexampleFailsItsChecker) {
  const auto files = scenarios_in(docs_dir("counterexamples"));
  ASSERT_FALSE(files.empty()) << "no counterexamples in " << docs_dir("counterexamples");
  for (const auto& path : files) {
    SCOPED_TRACE(path.filename().string());
    const std::string checker = checker_named_in(path.filename().string());
    ASSERT_NE(checker, "") << "the file name names no checker";
    RunResult r = run_scenario(load_scenario(path.string()), RunOptions{false});
    bool seen = false, failed = false;
    for (const auto& v : r.verdicts)
      if (v.checker == checker) {
        seen = true;
        failed = !v.ok;
      }
    EXPECT_TRUE(seen) << checker << " did not judge this run";
    EXPECT_TRUE(failed) << checker << " held; failed: " << failed_checkers(r);
  }
}

TEST(Findings, EveryFixedBugStaysFixed) {
  const auto files = scenarios_in(docs_dir("regressions"));
  ASSERT_FALSE(files.empty()) << "no scenarios in " << docs_dir("regressions");
  for (const auto& path : files) {
    SCOPED_TRACE(path.filename().string());
    RunResult r = run_scenario(load_scenario(path.string()), RunOptions{false});
    EXPECT_FALSE(r.verdicts.empty());
    EXPECT_EQ(failed_checkers(r), "none");
  }
}

}  // namespace
}  // namespace lockstep::sim
