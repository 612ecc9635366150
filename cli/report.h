// Human-facing reports shared by the commands that run scenarios.
#pragma once

#include <ostream>

#include "sim/run.h"
#include "sim/scenario.h"

namespace lockstep::cli {

// The verdict table and the run summary of `lockstep run`.
void print_run_report(std::ostream& out, const sim::Scenario& scenario, const sim::RunResult& r);

}  // namespace lockstep::cli
