// Quoting a string for a JSON document written by hand: the simulator's trace lines and
// the live runner's history file. One escaping for both, the one nlohmann::json::dump
// writes (the scenario files), so a string reads the same in every file lockstep writes:
// \" \\ \b \f \n \r \t, \u00xx (lower-case hex) for the other control characters, and every
// other byte as it is (UTF-8 passes through).
//
// It lives in core/ because it is the standard library only and both sim/ and real/ write
// JSON; neither may include the other.
#pragma once

#include <string>

namespace lockstep {

std::string json_quote(const std::string& s);

}  // namespace lockstep
