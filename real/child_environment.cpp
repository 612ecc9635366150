#include "real/child_environment.h"

#include <string_view>

extern char** environ;

namespace lockstep::real {

ChildEnvironment::ChildEnvironment(
    const std::vector<std::pair<std::string, std::string>>& settings) {
  for (char** e = environ; *e; ++e) {
    std::string_view var(*e);
    bool replaced = false;
    for (const auto& [name, value] : settings) replaced |= var.starts_with(name + "=");
    if (!replaced) entries_.emplace_back(var);
  }
  for (const auto& [name, value] : settings) entries_.push_back(name + "=" + value);
  for (auto& e : entries_) envp_.push_back(e.data());
  envp_.push_back(nullptr);
}

}  // namespace lockstep::real
