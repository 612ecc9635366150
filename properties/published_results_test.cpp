// Scenarios under docs/examples/ that reproduce a published result or a real system's
// behaviour give the verdict the source gives: each row names the file, the checkers
// that must fail and those that must hold (docs/scenario.md, "Examples", says why).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/check/checker.h"
#include "sim/run.h"
#include "sim/scenario.h"

namespace lockstep::sim {
namespace {

struct Published {
  const char* file;  // under docs/examples/
  std::vector<std::string> fail;
  std::vector<std::string> hold;
};

std::string path_of(const char* file) {
  return (std::filesystem::path(__FILE__).parent_path().parent_path() / "docs" / "examples" / file)
      .string();
}

class PublishedResult : public ::testing::TestWithParam<Published> {};

TEST_P(PublishedResult, GivesThePublishedVerdict) {
  const Published& p = GetParam();
  RunResult r;
  try {
    r = run_scenario(load_scenario(path_of(p.file)), RunOptions{false});
  } catch (const ScenarioError& e) {
    FAIL() << e.message;
  }
  auto verdict = [&r](const std::string& checker) -> const Verdict* {
    for (const auto& v : r.verdicts)
      if (v.checker == checker) return &v;
    return nullptr;
  };
  for (const auto& c : p.fail) {
    const Verdict* v = verdict(c);
    ASSERT_NE(v, nullptr) << c << " did not judge the run";
    EXPECT_FALSE(v->ok) << c << " held: " << v->summary;
  }
  for (const auto& c : p.hold) {
    const Verdict* v = verdict(c);
    ASSERT_NE(v, nullptr) << c << " did not judge the run";
    EXPECT_TRUE(v->ok) << c << ": " << v->summary;
  }
}

INSTANTIATE_TEST_SUITE_P(Examples, PublishedResult,
                         ::testing::Values(
                             // ZooKeeper expires sessions on elapsed time: a +30 s step of its wall
                             // clock expires none of them.
                             Published{"zk-slow-server-clock-step.json",
                                       {},
                                       {"mutual-exclusion", "liveness-after-quiet"}}),
                         [](const ::testing::TestParamInfo<Published>& info) {
                           std::string name = info.param.file;
                           name = name.substr(0, name.find('.'));
                           for (char& c : name)
                             if (c == '-') c = '_';
                           return name;
                         });

}  // namespace
}  // namespace lockstep::sim
