// `lockstep check --option KEY=VALUE`: the first line names the algorithm, each further
// line is one --option, read by algo_search as `check --algo A --option ...` reads them
// (the key checked against the algorithm, the value by its option spec). An accepted set
// must also generate a scenario (the search's case 0), as the check's first run does.
#include "cli/args.h"
#include "cli/check_search.h"
#include "core/options.h"
#include "properties/fuzz/fuzz_input.h"
#include "sim/scenario.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lockstep;
  const std::vector<std::string> lines = fuzz::lines(data, size);
  if (lines.empty()) return 0;
  std::vector<std::string> argv = {"--algo", lines[0], "--runs", "1", "--faults", "none"};
  for (size_t i = 1; i < lines.size(); ++i) {
    argv.push_back("--option");
    argv.push_back(lines[i]);
  }
  try {
    const cli::Args args = cli::check_args(argv);
    const cli::AlgoSearch setup = cli::algo_search(args, cli::common_flags(args));
    sim::search::Search(setup.config).generate(0);
  } catch (const cli::UsageError&) {
  } catch (const sim::ScenarioError&) {
  } catch (const OptionError&) {
  }
  return 0;
}
