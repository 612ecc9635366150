// lockstep's command line: dispatch to a subcommand and turn its refusals into one line
// on stderr and exit status 2.
#include "cli/cli_main.h"

#include <iostream>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/json.h"
#include "core/options.h"
#include "sim/scenario.h"

#ifndef LOCKSTEP_VERSION
#error "LOCKSTEP_VERSION comes from project(VERSION) in CMakeLists.txt"
#endif

namespace lockstep {

namespace {

const char* kHelp = R"(usage: lockstep COMMAND [ARGS] [--help]
       lockstep --version

lockstep runs distributed lock algorithms in a deterministic simulator of ZooKeeper
(virtual time, one seeded PRNG, injected faults) and checks what their clients believed
against what really happened.

commands:
  run SCENARIO.json     one simulated run: verdict per checker, summary, trace
  check --algo A        search generated scenarios for a violation, shrink it, replay it
  check --all           the safety matrix: every algorithm x fault class x checker
  live --store STORE    the workload on a live ZooKeeper (or local:), real faults, same checkers
  repro NAME... | --all published results about locks: each claim beside lockstep's verdict
  merge DIR... --out D  the shards of a check --shard K/N search back into one result
  algorithms            the catalogue of lock algorithms

Every command has --help. Exit status: 0 passed, 1 a checker found a violation, 2 bad input.
)";

}  // namespace

const char* version() { return LOCKSTEP_VERSION; }

int cli_main(int argc, char** argv) {
  std::vector<std::string> args(argv + (argc > 0 ? 1 : 0), argv + (argc > 0 ? argc : 0));
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << kHelp;
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version") {
    std::cout << "lockstep " << version() << " (scenario format " << sim::kScenarioFormat << ")\n";
    return 0;
  }
  std::string command = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  try {
    if (command == "run") return cli::run_command(rest);
    if (command == "algorithms") return cli::algorithms_command(rest);
    if (command == "check") return cli::check_command(rest);
    if (command == "live") return cli::live_command(rest);
    if (command == "repro") return cli::repro_command(rest);
    if (command == "merge") return cli::merge_command(rest);
    if (command == "live-client") return cli::live_client_command(rest);
    std::cerr << "lockstep: unknown command \"" << one_line(command)
              << "\" (see lockstep --help)\n";
    return 2;
  } catch (const cli::UsageError& e) {
    std::cerr << "lockstep " << command << ": " << one_line(e.message) << "\n";
    return 2;
  } catch (const sim::ScenarioError& e) {
    std::cerr << "lockstep " << command << ": " << one_line(e.message) << "\n";
    return 2;
  } catch (const OptionError& e) {
    std::cerr << "lockstep " << command << ": options." << one_line(e.key) << ": "
              << one_line(e.problem) << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "lockstep " << command << ": internal error: " << one_line(e.what()) << "\n";
    return 3;
  }
}

}  // namespace lockstep
