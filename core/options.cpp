#include "core/options.h"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <type_traits>

#include "core/json.h"

namespace lockstep {

namespace {

int64_t parse_integer(const std::string& key, const std::string& text) {
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0') throw OptionError{key, "is not an integer"};
  if (errno == ERANGE) throw OptionError{key, "is beyond a 64-bit integer"};
  return v;
}

// A finite number: "nan", "inf" and 1e309 would make every product with them meaningless.
double parse_number(const std::string& key, const std::string& text) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0') throw OptionError{key, "is not a number"};
  if (!std::isfinite(v)) throw OptionError{key, "is not a finite number"};
  return v;
}

Duration within_limit(const std::string& key, Duration d) {
  if (d > kMaxInputDuration)
    throw OptionError{key, std::string("must be at most ") + kMaxInputDurationText};
  return d;
}

Duration parse_duration_value(const std::string& key, const std::string& text) {
  auto d = parse_duration(text);
  if (!d) throw OptionError{key, "is not a duration with a unit (e.g. \"500ms\")"};
  return within_limit(key, *d);
}

// ZooKeeper-library style: a bare integer is milliseconds.
Duration parse_millis(const std::string& key, const std::string& text) {
  int64_t ms = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
  if (ec == std::errc() && end == text.data() + text.size()) {
    if (ms < 0) throw OptionError{key, "must not be negative"};
    if (ms > std::chrono::duration_cast<std::chrono::milliseconds>(kMaxInputDuration).count())
      throw OptionError{key, std::string("must be at most ") + kMaxInputDurationText};
    return std::chrono::milliseconds(ms);
  }
  return parse_duration_value(key, text);
}

std::string choices_text(const std::vector<std::string>& choices) {
  std::string out;
  for (size_t i = 0; i < choices.size(); ++i)
    out += (i == 0 ? "" : i + 1 == choices.size() ? " or " : ", ") + choices[i];
  return out;
}

// The value without bounds checks: for the bounds themselves, too.
OptionValue parse_unbounded(const OptionSpec& spec, const std::string& text) {
  switch (spec.type) {
    case OptionType::Duration:
      return parse_duration_value(spec.key, text);
    case OptionType::Millis:
      return parse_millis(spec.key, text);
    case OptionType::Integer:
      return parse_integer(spec.key, text);
    case OptionType::Number:
      return parse_number(spec.key, text);
    case OptionType::Boolean:
      if (text == "true") return true;
      if (text == "false") return false;
      throw OptionError{spec.key, "is not true or false"};
    case OptionType::Text:
      return text;
    case OptionType::Choice:
      for (const auto& c : spec.choices)
        if (c == text) return text;
      throw OptionError{spec.key, "is not " + choices_text(spec.choices)};
  }
  throw std::logic_error("option " + spec.key + ": unknown type");
}

// Orders two values of one numeric type: <0, 0, >0.
int compare(const OptionValue& a, const OptionValue& b) {
  return std::visit(
      [&](const auto& x) -> int {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, std::string>) {
          throw std::logic_error("bounds on an option that has no order");
        } else {
          const T& y = std::get<T>(b);
          return x < y ? -1 : y < x ? 1 : 0;
        }
      },
      a);
}

// -1, 0 or 1 for a numeric value; 1 for the others (they have no sign).
int sign(const OptionValue& v) {
  return std::visit(
      [](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, Duration>)
          return x < Duration(0) ? -1 : x == Duration(0) ? 0 : 1;
        else if constexpr (std::is_same_v<T, int64_t> || std::is_same_v<T, double>)
          return x < 0 ? -1 : x == 0 ? 0 : 1;
        else
          return 1;
      },
      v);
}

}  // namespace

std::string_view option_type_name(OptionType type) {
  switch (type) {
    case OptionType::Duration:
      return "duration";
    case OptionType::Millis:
      return "milliseconds or duration";
    case OptionType::Integer:
      return "integer";
    case OptionType::Number:
      return "number";
    case OptionType::Boolean:
      return "bool";
    case OptionType::Text:
      return "string";
    case OptionType::Choice:
      return "choice";
  }
  return "?";
}

OptionValue parse_option_value(const OptionSpec& spec, const std::string& text) {
  OptionValue v = parse_unbounded(spec, text);
  std::optional<OptionValue> lo, hi;
  if (!spec.min.empty()) lo = parse_unbounded(spec, spec.min);
  if (!spec.max.empty()) hi = parse_unbounded(spec, spec.max);
  const bool below = lo && compare(v, *lo) < 0, above = hi && compare(v, *hi) > 0;
  if (lo && hi && (below || above))
    throw OptionError{spec.key, "must be between " + spec.min + " and " + spec.max};
  if (below)
    throw OptionError{spec.key,
                      sign(*lo) == 0 ? "must not be negative" : "must be at least " + spec.min};
  if (above) throw OptionError{spec.key, "must be at most " + spec.max};
  if (spec.positive && sign(v) <= 0) throw OptionError{spec.key, "must be positive"};
  return v;
}

OptionValues validate_options(const std::vector<OptionSpec>& specs, const Options& given) {
  OptionValues out;
  for (const OptionSpec& spec : specs) {
    OptionValues::Entry e;
    e.spec = &spec;
    if (!spec.default_value.empty() || spec.type == OptionType::Text)
      e.default_value = parse_option_value(spec, spec.default_value);
    e.value = e.default_value;
    out.entries_[spec.key] = std::move(e);
  }
  for (const auto& [key, text] : given.all()) {
    auto it = out.entries_.find(key);
    if (it == out.entries_.end()) throw OptionError{one_line(key), "unknown option"};
    it->second.value = parse_option_value(*it->second.spec, text);
  }
  return out;
}

const OptionValues::Entry& OptionValues::entry(const std::string& key) const {
  auto it = entries_.find(key);
  if (it == entries_.end())
    throw std::logic_error("option \"" + key + "\" is not in the algorithm's catalogue entry");
  return it->second;
}

template <class T>
const T& OptionValues::get(const std::string& key) const {
  const Entry& e = entry(key);
  if (!e.value) throw std::logic_error("option \"" + key + "\" has no value and no default");
  const T* v = std::get_if<T>(&*e.value);
  if (!v) throw std::logic_error("option \"" + key + "\" read as another type");
  return *v;
}

Duration OptionValues::duration(const std::string& key) const { return get<Duration>(key); }
int64_t OptionValues::integer(const std::string& key) const { return get<int64_t>(key); }
double OptionValues::number(const std::string& key) const { return get<double>(key); }
bool OptionValues::boolean(const std::string& key) const { return get<bool>(key); }
const std::string& OptionValues::text(const std::string& key) const {
  return get<std::string>(key);
}
bool OptionValues::has(const std::string& key) const { return entry(key).value.has_value(); }

Duration OptionValues::default_duration(const std::string& key) const {
  const Entry& e = entry(key);
  const Duration* d = e.default_value ? std::get_if<Duration>(&*e.default_value) : nullptr;
  if (!d) throw std::logic_error("option \"" + key + "\" has no duration default");
  return *d;
}

}  // namespace lockstep
