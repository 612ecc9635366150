// A scenario the parser accepts, run as `lockstep run FILE --trace T --perfetto P` runs it
// (with a smaller event budget, below): every accepted scenario must end (the budget
// refuses one that would not, with one line) with a verdict, and its trace must convert
// to the Perfetto document.
#include <sstream>

#include "cli/report.h"
#include "core/options.h"
#include "properties/fuzz/fuzz_input.h"
#include "sim/perfetto.h"
#include "sim/run.h"
#include "sim/scenario.h"

namespace {
constexpr uint64_t kFuzzBudget = lockstep::sim::kEventBudget / 10;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lockstep;
  try {
    const sim::Scenario s = sim::parse_scenario(fuzz::text(data, size));
    // A tenth of the smallest budget: the sanitized, instrumented build runs about 25
    // times slower than a release one, and a run cut off by its budget (the same refusal
    // at any budget) must still end within libFuzzer's 10 s per input.
    const sim::RunResult result =
        sim::run_scenario(s, sim::RunOptions{.keep_trace = true, .event_budget = kFuzzBudget});
    std::ostringstream report;
    cli::print_run_report(report, s, result);
    sim::perfetto_json(s, result);
  } catch (const sim::ScenarioError&) {
  } catch (const OptionError&) {
  }
  return 0;
}
