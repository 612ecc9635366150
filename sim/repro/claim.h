// Whether a run reproduces what a claim predicts: the checkers it says fail must fail,
// those it says hold must hold, and each count it bounds must fall inside the bound.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/check/judge.h"
#include "sim/repro/catalogue.h"

namespace lockstep::sim {
struct RunResult;
}

namespace lockstep::sim::repro {

// What a run showed, in the claim's terms.
struct Observed {
  std::map<std::string, bool> verdicts;  // checker -> held
  std::map<std::string, double> counts;  // only the counts the world measured
};

Observed observe(const RunResult& r);   // a simulated run: every known count
Observed observe(const RunOutcome& r);  // a live run: no watch notification counts

// One line per way the run departs from the claim; empty: reproduced.
std::vector<std::string> mismatches(const Expectation& expect, const Observed& seen);

// "fails mutual-exclusion, fencing; holds token-sanity; refused_writes >= 1".
std::string describe(const Expectation& expect);
// The same words for what was seen, limited to what the claim asks about.
std::string describe(const Observed& seen, const Expectation& asked);

}  // namespace lockstep::sim::repro
