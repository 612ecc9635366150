#include "core/time.h"

#include <cstdio>

namespace lockstep {

Duration add_sat(Duration a, Duration b) {
  int64_t r;
  if (__builtin_add_overflow(a.count(), b.count(), &r))
    return a.count() < 0 ? -kTimeHorizon : kTimeHorizon;
  return clamp_time(Duration(r));
}

Duration sub_sat(Duration a, Duration b) {
  int64_t r;
  if (__builtin_sub_overflow(a.count(), b.count(), &r))
    return a.count() < 0 ? -kTimeHorizon : kTimeHorizon;
  return clamp_time(Duration(r));
}

Duration mul_sat(Duration d, int64_t k) {
  int64_t r;
  if (__builtin_mul_overflow(d.count(), k, &r))
    return (d.count() < 0) != (k < 0) ? -kTimeHorizon : kTimeHorizon;
  return clamp_time(Duration(r));
}

Duration from_double_ns(double ns) {
  if (ns != ns) return Duration(0);
  const double h = static_cast<double>(kTimeHorizon.count());
  if (ns >= h) return kTimeHorizon;
  if (ns <= -h) return -kTimeHorizon;
  return Duration(static_cast<int64_t>(ns));
}

Duration scale_sat(Duration d, double factor) {
  return from_double_ns(static_cast<double>(d.count()) * factor);
}

std::optional<Duration> parse_duration(std::string_view text) {
  size_t i = 0;
  if (text.empty()) return std::nullopt;
  int64_t whole = 0;
  bool digits = false;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    if (whole > (INT64_MAX - 9) / 10) return std::nullopt;
    whole = whole * 10 + (text[i] - '0');
    digits = true;
    ++i;
  }
  // Fractions are kept as an exact numerator/denominator so "1.5s" is exactly 1500ms.
  int64_t frac = 0, frac_scale = 1;
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (frac_scale < 1'000'000'000) {
        frac = frac * 10 + (text[i] - '0');
        frac_scale *= 10;
      }
      digits = true;
      ++i;
    }
  }
  if (!digits) return std::nullopt;
  std::string_view unit = text.substr(i);
  int64_t ns_per_unit = 0;
  if (unit == "ns")
    ns_per_unit = 1;
  else if (unit == "us")
    ns_per_unit = 1'000;
  else if (unit == "ms")
    ns_per_unit = 1'000'000;
  else if (unit == "s")
    ns_per_unit = 1'000'000'000;
  else if (unit == "m")
    ns_per_unit = 60'000'000'000;
  else if (unit == "h")
    ns_per_unit = 3'600'000'000'000;
  else
    return std::nullopt;
  if (whole > INT64_MAX / ns_per_unit) return std::nullopt;
  // Nine fraction digits of an hour are 3.6e21 before the division: wider than int64
  // (it wrapped, and "0.123456789h" read as about 5 s).
  const auto part = static_cast<int64_t>(static_cast<__int128>(frac) * ns_per_unit / frac_scale);
  int64_t ns;
  if (__builtin_add_overflow(whole * ns_per_unit, part, &ns)) return std::nullopt;
  return Duration(ns);
}

std::string format_duration(Duration d) {
  int64_t ns = d.count();
  const char* sign = ns < 0 ? "-" : "";
  int64_t a = ns < 0 ? -ns : ns;
  struct Unit {
    int64_t scale;
    const char* name;
  };
  static const Unit units[] = {
      {60'000'000'000, "m"}, {1'000'000'000, "s"}, {1'000'000, "ms"}, {1'000, "us"}};
  if (a != 0) {
    for (const Unit& u : units)
      if (a % u.scale == 0) return sign + std::to_string(a / u.scale) + u.name;
  }
  return sign + std::to_string(a) + "ns";
}

std::string format_seconds(Duration d) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3fs", static_cast<double>(d.count()) / 1e9);
  return buf;
}

}  // namespace lockstep
