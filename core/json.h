// Quoting a string for a JSON document written by hand: the simulator's trace lines and
// the live runner's history file. One escaping for both, the one nlohmann::json::dump
// writes (the scenario files), so a string reads the same in every file lockstep writes:
// \" \\ \b \f \n \r \t, \u00xx (lower-case hex) for the other control characters, and every
// other byte as it is (UTF-8 passes through).
//
// It lives in core/ because it is the standard library only and both sim/ and real/ write
// JSON; neither may include the other.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace lockstep {

std::string json_quote(const std::string& s);

// Text as it is, but with control characters escaped as json_quote escapes them (no
// quotes added): a key or value echoed in an error message keeps the message on one line.
std::string one_line(std::string_view s);

// The deepest nesting of arrays and objects a JSON document lockstep reads may have. A
// scenario needs 4; a bound keeps a hostile document (thousands of "[") from exhausting
// the stack of whatever walks it.
inline constexpr int kMaxJsonDepth = 64;

// What a JSON document holds that no reader should be handed: nesting deeper than
// kMaxJsonDepth, or a number beyond a double's range (1e309). Names the first such place
// as "line L, column C: ..." (the parser's own way of naming a position); nullopt if there
// is none. It reads strings and // and /* */ comments as such, and leaves every other
// check (syntax included) to the parser.
std::optional<std::string> json_limits_problem(std::string_view text);

}  // namespace lockstep
