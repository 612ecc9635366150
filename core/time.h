// Time in lockstep: every clock reading and every span is a count of nanoseconds.
// A process reads its own local clock through Env; true time exists only in the
// simulator's world and in the checkers.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
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

// The longest duration any input may give (a scenario's durations, an algorithm's
// duration options, a command's flags): 10 years. Far beyond any run worth simulating,
// and small enough that a clock reading plus a handful of inputs stays inside int64 ns.
inline constexpr Duration kMaxInputDuration = std::chrono::hours(24 * 365 * 10);
inline constexpr const char* kMaxInputDurationText = "87600h (10 years)";

// Time arithmetic saturates at +-kTimeHorizon (2^62 ns, about 146 years) instead of
// wrapping around: a sum of inputs, a product with a count, a drifting clock's reading.
// No run reaches it (a run lasts at most kMaxInputDuration), so a saturated value only
// ever means "later than anything that happens", and reading + input cannot overflow.
inline constexpr Duration kTimeHorizon = Duration(int64_t{1} << 62);

// Clamped into [-kTimeHorizon, kTimeHorizon].
constexpr Duration clamp_time(Duration d) {
  return d > kTimeHorizon ? kTimeHorizon : d < -kTimeHorizon ? -kTimeHorizon : d;
}
// a + b, a - b, d * k and d * factor, saturated at the horizon (a NaN factor gives 0).
Duration add_sat(Duration a, Duration b);
Duration sub_sat(Duration a, Duration b);
Duration mul_sat(Duration d, int64_t k);
Duration scale_sat(Duration d, double factor);
// A count of nanoseconds held in a double, rounded toward zero and saturated.
Duration from_double_ns(double ns);

// Parses "250ms", "2s", "1.5s", "200us", "3m", "10ns". A unit is required; negative
// values are rejected. Returns nullopt on anything else.
std::optional<Duration> parse_duration(std::string_view text);

// Formats the way parse_duration reads: the largest unit that keeps an integer, e.g. "1500ms".
std::string format_duration(Duration d);

// Seconds as a decimal, for human-facing tables ("1.250s").
std::string format_seconds(Duration d);

}  // namespace lockstep
