#include "cli/args.h"

#include <cstdlib>

namespace lockstep::cli {

Args::Args(const std::vector<std::string>& argv, const std::set<std::string>& with_value,
           const std::set<std::string>& switches) {
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a.size() > 2 && a.rfind("--", 0) == 0) {
      std::string name = a, val;
      bool inline_value = false;
      auto eq = a.find('=');
      if (eq != std::string::npos) {
        name = a.substr(0, eq);
        val = a.substr(eq + 1);
        inline_value = true;
      }
      if (with_value.count(name)) {
        if (!inline_value) {
          if (i + 1 >= argv.size()) throw UsageError{name + ": needs a value"};
          val = argv[++i];
        }
        flags_.emplace_back(name, val);
      } else if (switches.count(name)) {
        if (inline_value) throw UsageError{name + ": takes no value"};
        flags_.emplace_back(name, "");
      } else {
        throw UsageError{name + ": unknown option (see --help)"};
      }
    } else {
      positional_.push_back(a);
    }
  }
}

bool Args::has(const std::string& flag) const {
  for (auto& [k, v] : flags_)
    if (k == flag) return true;
  return false;
}

std::optional<std::string> Args::value(const std::string& flag) const {
  std::optional<std::string> out;
  for (auto& [k, v] : flags_)
    if (k == flag) out = v;
  return out;
}

std::vector<std::string> Args::values(const std::string& flag) const {
  std::vector<std::string> out;
  for (auto& [k, v] : flags_)
    if (k == flag) out.push_back(v);
  return out;
}

std::optional<uint64_t> Args::unsigned_value(const std::string& flag) const {
  auto v = value(flag);
  if (!v) return std::nullopt;
  if (v->empty() || v->find_first_not_of("0123456789") != std::string::npos)
    throw UsageError{flag + ": \"" + *v + "\" is not a non-negative integer"};
  errno = 0;
  char* end = nullptr;
  unsigned long long n = std::strtoull(v->c_str(), &end, 10);
  if (errno == ERANGE) throw UsageError{flag + ": \"" + *v + "\" is too large"};
  return n;
}

}  // namespace lockstep::cli
