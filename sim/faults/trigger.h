// Fault times relative to the run's events ("at": "acquired#2+500ms"): how a scenario
// says them, how they read back, and when one fires. The fault injector arms them; the
// parser and the fault kinds' writers go through here, so the syntax has one home.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/history.h"
#include "sim/scenario.h"

namespace lockstep::sim {

// The events a fault may count from, by their trace names.
const std::vector<std::string>& trigger_event_names();

// "acquired", "acquired#2", "resource_read+10ms", "released#3+1s": the trigger and the
// offset after it. Text that does not start with a letter is not relative (nullopt).
// Throws ScenarioError naming `path` for a malformed one.
struct RelativeAt {
  FaultTrigger trigger;
  Duration offset{0};
};
std::optional<RelativeAt> parse_relative_at(const std::string& text, const std::string& path);

// The "at" value a fault writes back: a duration, or EVENT[#N][+DURATION].
std::string format_at(const Fault& f);
std::string format_relative_at(const FaultTrigger& t, Duration offset);

}  // namespace lockstep::sim
