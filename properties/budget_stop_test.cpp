// A run its event budget stops ends in a ScenarioError and takes its world down in order,
// with faults in force: the clients' sessions close through the network, which asks the
// fault injector for their messages' fate, so the injector must outlive them. The
// scenario_run fuzz harness found it (a heap-use-after-free under ASan, silent without);
// `scripts/test --sanitize` runs this test where it shows.
#include <gtest/gtest.h>

#include "sim/run.h"
#include "sim/scenario.h"

namespace lockstep::sim {
namespace {

TEST(BudgetStop, ARunStoppedWithPartitionsInForceEndsInOneError) {
  const Scenario s = parse_scenario(R"({"algorithm": "recipe", "duration": "1m",
      "nemesis": {"kinds": ["partition"], "mean_interval": "2ms", "quiet_after": "87600h"}})");
  try {
    run_scenario(s, RunOptions{.keep_trace = true, .event_budget = 20000});
    ADD_FAILURE() << "the run ended within 20000 steps";
  } catch (const ScenarioError& e) {
    EXPECT_NE(e.message.find("reached its budget of 20000"), std::string::npos) << e.message;
  }
}

}  // namespace
}  // namespace lockstep::sim
