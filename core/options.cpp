#include "core/options.h"

#include <cstdlib>

namespace lockstep {

std::string Options::text(const std::string& key, const std::string& def) const {
  auto it = values_.find(key);
  return it == values_.end() ? def : it->second;
}

int64_t Options::integer(const std::string& key, int64_t def) const {
  auto it = values_.find(key);
  if (it == values_.end()) return def;
  char* end = nullptr;
  long long v = std::strtoll(it->second.c_str(), &end, 10);
  if (it->second.empty() || *end != '\0') throw OptionError{key, "is not an integer"};
  return v;
}

double Options::number(const std::string& key, double def) const {
  auto it = values_.find(key);
  if (it == values_.end()) return def;
  char* end = nullptr;
  double v = std::strtod(it->second.c_str(), &end);
  if (it->second.empty() || *end != '\0') throw OptionError{key, "is not a number"};
  return v;
}

bool Options::boolean(const std::string& key, bool def) const {
  auto it = values_.find(key);
  if (it == values_.end()) return def;
  if (it->second == "true") return true;
  if (it->second == "false") return false;
  throw OptionError{key, "is not true or false"};
}

Duration Options::duration(const std::string& key, Duration def) const {
  auto it = values_.find(key);
  if (it == values_.end()) return def;
  auto d = parse_duration(it->second);
  if (!d) throw OptionError{key, "is not a duration with a unit (e.g. \"500ms\")"};
  return *d;
}

std::optional<std::string> Options::first_unknown(const std::set<std::string>& known) const {
  for (const auto& [k, v] : values_)
    if (!known.count(k)) return k;
  return std::nullopt;
}

}  // namespace lockstep
