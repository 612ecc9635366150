// RapidCheck generators of scenarios for the property search (`lockstep check`).
//
// A generated scenario is built from a draft of independent parts (faults, clients,
// cycles, hold, think, session timeout, network) so that integrated shrinking can
// reduce each part on its own: removing a fault does not redraw the clients, fewer
// clients do not redraw the faults. Parts that depend on each other are tied together
// only when the draft becomes a Scenario: a fault's client index is clamped below the
// number of clients, and its lengths are fractions of the session timeout. So every
// shrink is a valid scenario, and shrinking the timeout keeps a long pause long.
//
// The generators never use `*gen` and so work outside a property: call
// `gen(rc::Random(seed), size)` for a Shrinkable<Scenario>.
#pragma once

#include <rapidcheck.h>

#include <ostream>
#include <string>
#include <vector>

#include "core/lock.h"
#include "core/time.h"
#include "sim/scenario.h"

namespace lockstep::sim {
// How RapidCheck prints a generated scenario in a failing property: as its scenario file.
void showValue(const Scenario& s, std::ostream& os);
}  // namespace lockstep::sim

namespace lockstep::sim::search {

// What a search may vary. Everything else is drawn by the generator.
struct SearchSpace {
  // The algorithm, resolved once where its name came in (resolve_algorithm); required.
  const AlgorithmInfo* algorithm = nullptr;
  // Fault kinds to draw from; empty: no faults at all.
  std::vector<FaultKind> fault_kinds;
  bool resource = false;           // a resource in every critical section
  bool fenced = true;              // ... with fenced writes
  bool separate_resource = false;  // ... on a store of its own (Scenario's "separate")
  std::string fencing;             // "", "czxid", "sequence", "none" (Scenario::fencing)
  Options options;                 // the algorithm's options, in every scenario (e.g. stores=5)
  int min_faults = 0;              // faults per scenario: min_faults .. max_faults (shrinking
  int max_faults = 4;              // never goes below min_faults)
  Duration duration = std::chrono::seconds(120);  // virtual time bound of each run
};

// The fault kinds the generator can draw for an algorithm: every kind of the table
// (sim/faults/table.h) whose min_stores the algorithm has (store_crash needs several).
// `stores`: the stores the algorithm opens with its options (0: its default).
std::vector<FaultKind> supported_fault_kinds(const AlgorithmInfo& algorithm, int stores = 0);

// Scenarios for `space`: 2-8 clients, 1-8 cycles, hold 1ms-3s (capped so that all the
// critical sections fit in a quarter of the duration), think 0-100ms, an acquire timeout
// of half the duration, session timeout 1s, 2s or 4s, network latency from
// sub-millisecond to ~200ms, and min_faults .. max_faults faults of the enabled kinds
// whose sizes straddle the session timeout.
// Throws std::invalid_argument for a space without an algorithm, OptionError for an option
// the algorithm refuses.
rc::Gen<Scenario> gen_scenario(const SearchSpace& space);

}  // namespace lockstep::sim::search
