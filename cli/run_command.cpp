// `lockstep run SCENARIO.json`: one deterministic simulated run, its verdicts and summary.
#include <cstdio>
#include <fstream>
#include <iostream>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/memory_guard.h"
#include "cli/report.h"
#include "sim/perfetto.h"
#include "sim/run.h"
#include "sim/scenario.h"

namespace lockstep::cli {

namespace {

const char* kRunHelp =
    R"(usage: lockstep run SCENARIO.json [--seed N] [--trace FILE] [--perfetto FILE]
                    [--check-determinism]

Runs one simulated scenario (docs/scenario.md) and prints each checker's verdict and a
summary: acquisitions, store requests, watch notifications per release, virtual time.

  --seed N              use seed N instead of the file's "seed"
  --trace FILE          write the run's trace as JSON lines to FILE
  --perfetto FILE       write the run as Chrome/Perfetto trace-event JSON to FILE (open
                        it in ui.perfetto.dev): a track per client, the server, violations
  --check-determinism   run twice and fail unless both traces are byte-identical
  --help                this text

Exit status: 0 every checker passed, 1 a checker found a violation (or the determinism
check failed), 2 bad input.
)";

}  // namespace

int run_command(const std::vector<std::string>& argv) {
  Args args(argv, {"--seed", "--trace", "--perfetto"}, {"--check-determinism", "--help"});
  if (args.has("--help")) {
    std::cout << kRunHelp;
    return 0;
  }
  if (args.positional().size() != 1)
    throw UsageError{args.positional().empty() ? "missing SCENARIO.json (see --help)"
                                               : "expected one scenario file, got " +
                                                     std::to_string(args.positional().size())};
  sim::Scenario scenario = sim::load_scenario(args.positional()[0]);
  if (auto seed = args.unsigned_value("--seed")) scenario.seed = *seed;

  sim::RunOptions options;
  options.keep_trace =
      args.has("--trace") || args.has("--check-determinism") || args.has("--perfetto");
  refuse_if_too_big(scenario, options.keep_trace);
  sim::RunResult result = sim::run_scenario(scenario, options);

  print_run_report(std::cout, scenario, result);

  int status = result.ok() ? 0 : 1;
  if (args.has("--check-determinism")) {
    sim::RunResult again = sim::run_scenario(scenario, options);
    size_t n = std::min(result.trace.size(), again.trace.size());
    size_t first_diff = n;
    for (size_t i = 0; i < n; ++i) {
      if (result.trace[i] != again.trace[i]) {
        first_diff = i;
        break;
      }
    }
    if (first_diff == n && result.trace.size() == again.trace.size()) {
      std::cout << "determinism        PASS  two runs, identical traces (" << result.trace.size()
                << " lines)\n";
    } else {
      std::cout << "determinism        FAIL  traces differ at line " << first_diff + 1 << "\n";
      if (first_diff < result.trace.size())
        std::cout << "  first:  " << result.trace[first_diff] << "\n";
      if (first_diff < again.trace.size())
        std::cout << "  second: " << again.trace[first_diff] << "\n";
      status = 1;
    }
  }
  if (auto path = args.value("--trace")) {
    std::ofstream out(*path);
    if (!out) throw UsageError{"--trace: cannot write \"" + *path + "\""};
    for (const auto& line : result.trace) out << line << '\n';
    if (!out) throw UsageError{"--trace: error writing \"" + *path + "\""};
  }
  if (auto path = args.value("--perfetto")) {
    std::ofstream out(*path);
    if (!out) throw UsageError{"--perfetto: cannot write \"" + *path + "\""};
    out << sim::perfetto_json(scenario, result);
    if (!out) throw UsageError{"--perfetto: error writing \"" + *path + "\""};
  }
  return status;
}

}  // namespace lockstep::cli
