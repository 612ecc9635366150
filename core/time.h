// Time in lockstep: every clock reading and every span is a count of nanoseconds.
// A process reads its own local clock through Env; true time exists only in the
// simulator's world and in the checkers.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lockstep {

using Duration = std::chrono::nanoseconds;
// A reading of some clock, as nanoseconds since that clock's epoch.
using Time = std::chrono::nanoseconds;

using std::chrono_literals::operator""ns;
using std::chrono_literals::operator""us;
using std::chrono_literals::operator""ms;
using std::chrono_literals::operator""s;

// Parses "250ms", "2s", "1.5s", "200us", "3m", "10ns". A unit is required; negative
// values are rejected. Returns nullopt on anything else.
std::optional<Duration> parse_duration(std::string_view text);

// Formats the way parse_duration reads: the largest unit that keeps an integer, e.g. "1500ms".
std::string format_duration(Duration d);

// Seconds as a decimal, for human-facing tables ("1.250s").
std::string format_seconds(Duration d);

}  // namespace lockstep
