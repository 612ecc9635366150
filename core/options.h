// Algorithm options. As the scenario file and --option give them they are text
// (`Options`, so core/ needs no JSON library). Each algorithm declares the options it
// takes in its catalogue entry (`OptionSpec`: key, type, default, bounds, help); the
// text is checked against those declarations once, up front, and becomes
// `OptionValues`: typed, complete (defaults filled in), and the only thing a lock reads.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/time.h"

namespace lockstep {

// Options as text, keyed by name, as the user wrote them.
class Options {
 public:
  Options() = default;
  explicit Options(std::map<std::string, std::string> values) : values_(std::move(values)) {}

  void set(const std::string& key, std::string value) { values_[key] = std::move(value); }
  bool has(const std::string& key) const { return values_.count(key) != 0; }
  const std::map<std::string, std::string>& all() const { return values_; }

 private:
  std::map<std::string, std::string> values_;
};

// A refused option: main() prints it as "options.KEY: PROBLEM".
struct OptionError {
  std::string key;
  std::string problem;
};

enum class OptionType {
  Duration,  // a duration with a unit: "500ms", "1.5s"
  Millis,    // an integer of milliseconds, or a duration with a unit
  Integer,
  Number,
  Boolean,  // true or false
  Text,
  Choice,  // one of OptionSpec::choices
};

// "duration", "integer", ...: as `lockstep algorithms` shows it.
std::string_view option_type_name(OptionType type);

// One option an algorithm takes: the single place its key, type, default and bounds live.
struct OptionSpec {
  std::string key;
  OptionType type = OptionType::Text;
  // As a scenario would write it. Empty: none (the lock then behaves as `help` says, e.g.
  // "the caller's deadline"); a Text option's default is always its text, empty or not.
  std::string default_value;
  // Inclusive bounds written as values of the option's type ("1ms", "1"); empty: none.
  std::string min, max;
  bool positive = false;             // must be above zero
  std::vector<std::string> choices;  // Choice: the values allowed, in the order shown
  std::string help;
};

using OptionValue = std::variant<int64_t, double, bool, Duration, std::string>;

// Reads `text` as `spec` says and checks its bounds; throws OptionError naming spec.key.
OptionValue parse_option_value(const OptionSpec& spec, const std::string& text);

// The validated options of one algorithm: every declared option with its value as given,
// else its default. Made only by validate_options().
class OptionValues {
 public:
  OptionValues() = default;

  // A lock reads only what its catalogue entry declares, with the declared type: anything
  // else is a bug in the lock and throws std::logic_error. So is reading an option that
  // was not given and has no default (ask has() first).
  Duration duration(const std::string& key) const;  // Duration and Millis
  int64_t integer(const std::string& key) const;
  double number(const std::string& key) const;
  bool boolean(const std::string& key) const;
  const std::string& text(const std::string& key) const;  // Text and Choice

  // The option has a value: given, or a default.
  bool has(const std::string& key) const;
  // The catalogue entry declares the option. For a make function that other entries reuse
  // with options of their own (an algorithm a user registers on recipe's make).
  bool declares(const std::string& key) const { return entries_.count(key) != 0; }
  // The option's declared default (for locks that, like their library, put the default
  // back in place of a zero).
  Duration default_duration(const std::string& key) const;

 private:
  friend OptionValues validate_options(const std::vector<OptionSpec>& specs, const Options& given);
  struct Entry {
    const OptionSpec* spec = nullptr;
    std::optional<OptionValue> value;
    std::optional<OptionValue> default_value;
  };
  const Entry& entry(const std::string& key) const;
  template <class T>
  const T& get(const std::string& key) const;

  std::map<std::string, Entry> entries_;
};

// Checks `given` against `specs`: an undeclared key throws OptionError{key, "unknown
// option"}, a malformed or out-of-bounds value OptionError{key, why}. `specs` must outlive
// the result (the catalogue's do).
OptionValues validate_options(const std::vector<OptionSpec>& specs, const Options& given);

}  // namespace lockstep
