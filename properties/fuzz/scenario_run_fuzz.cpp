// A scenario the parser accepts, run as `lockstep run FILE --trace T --perfetto P` runs it:
// every accepted scenario must end (its event budget refuses one that would not, with one
// line) with a verdict, and its trace must convert to the Perfetto document.
#include <sstream>

#include "cli/report.h"
#include "core/options.h"
#include "properties/fuzz/fuzz_input.h"
#include "sim/perfetto.h"
#include "sim/run.h"
#include "sim/scenario.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lockstep;
  try {
    const sim::Scenario s = sim::parse_scenario(fuzz::text(data, size));
    const sim::RunResult result = sim::run_scenario(s, sim::RunOptions{.keep_trace = true});
    std::ostringstream report;
    cli::print_run_report(report, s, result);
    sim::perfetto_json(s, result);
  } catch (const sim::ScenarioError&) {
  } catch (const OptionError&) {
  }
  return 0;
}
