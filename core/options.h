// Algorithm options as the scenario file gives them ("options": {...}), kept as text so
// core/ needs no JSON library. Each algorithm reads what it knows and reports the rest.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "core/time.h"

namespace lockstep {

class Options {
 public:
  Options() = default;
  explicit Options(std::map<std::string, std::string> values) : values_(std::move(values)) {}

  void set(const std::string& key, std::string value) { values_[key] = std::move(value); }
  bool has(const std::string& key) const { return values_.count(key) != 0; }
  const std::map<std::string, std::string>& all() const { return values_; }

  // Typed reads with a default; a present but malformed value throws OptionError.
  std::string text(const std::string& key, const std::string& def) const;
  int64_t integer(const std::string& key, int64_t def) const;
  double number(const std::string& key, double def) const;
  bool boolean(const std::string& key, bool def) const;
  Duration duration(const std::string& key, Duration def) const;

  // The first key not in `known`, if any (for "unknown option" errors).
  std::optional<std::string> first_unknown(const std::set<std::string>& known) const;

 private:
  std::map<std::string, std::string> values_;
};

struct OptionError {
  std::string key;
  std::string problem;
};

}  // namespace lockstep
