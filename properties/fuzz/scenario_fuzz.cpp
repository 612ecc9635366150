// The scenario parser (docs/scenario.md) as `lockstep run`, `live` and the counterexample
// replay call it (load_scenario reads the file, then this). A scenario it accepts must
// write back (scenario_to_json) to text that reads to the same scenario.
#include "core/options.h"
#include "properties/fuzz/fuzz_input.h"
#include "sim/scenario.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lockstep;
  sim::Scenario s;
  try {
    s = sim::parse_scenario(fuzz::text(data, size));
  } catch (const sim::ScenarioError&) {
    return 0;  // refused, one line
  } catch (const OptionError&) {
    return 0;
  }
  const std::string written = sim::scenario_to_json(s);
  try {
    if (!(sim::parse_scenario(written) == s))
      fuzz::finding("scenario_to_json reads back different");
  } catch (const sim::ScenarioError& e) {
    fuzz::finding("scenario_to_json wrote what the parser refuses: " + e.message);
  }
  return 0;
}
