// Human-facing reports of a judged run, one format for `lockstep run` and `lockstep live`:
// a heading, the verdict table, a summary of facts and the overall verdict.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "core/check/judge.h"
#include "real/live_runner.h"
#include "sim/run.h"
#include "sim/scenario.h"

namespace lockstep::cli {

struct SummaryRow {
  std::string name;
  std::string value;
};

// `heading` is printed as given (with its own line ends); `problems` are lines printed
// before the verdict, each as "problem: ...".
void print_report(std::ostream& out, const std::string& heading, const RunOutcome& r,
                  const std::vector<SummaryRow>& summary,
                  const std::vector<std::string>& problems = {});

// The report of `lockstep run`: virtual time, watch notifications, simulated events.
void print_run_report(std::ostream& out, const sim::Scenario& scenario, const sim::RunResult& r);

// The report of `lockstep live`: wall time, faults applied, the cleanup of the run's root.
void print_live_report(std::ostream& out, const real::LiveRunSpec& spec, const std::string& store,
                       const real::LiveRunResult& r);

}  // namespace lockstep::cli
