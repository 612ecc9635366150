// Refuses a scenario whose estimated peak memory (sim/memory_estimate.h) is more than the
// machine has, before it starts: a run the kernel would kill halfway is refused with one
// line that says the estimate. The machine is read here, in cli/, never in sim/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "sim/scenario.h"

namespace lockstep::cli {

// What the machine has: LOCKSTEP_MEM_AVAILABLE (bytes) if set, else /proc/meminfo's
// MemAvailable; nothing where neither can be read (then nothing is refused).
std::optional<uint64_t> available_memory();

// The one line refusing `s`, or nothing if its estimate fits in `available`.
std::optional<std::string> memory_refusal(const sim::Scenario& s, bool keep_trace,
                                          uint64_t available);

// Throws UsageError (exit status 2) with that line when the scenario does not fit.
void refuse_if_too_big(const sim::Scenario& s, bool keep_trace);

}  // namespace lockstep::cli
