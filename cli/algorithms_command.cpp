// `lockstep algorithms`: the catalogue.
#include <iostream>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/lock.h"

namespace lockstep::cli {

int algorithms_command(const std::vector<std::string>& argv) {
  Args args(argv, {}, {"--help"});
  if (args.has("--help")) {
    std::cout << "usage: lockstep algorithms\n\nLists the lock algorithms a scenario's "
                 "\"algorithm\" key can name, with their options.\n";
    return 0;
  }
  if (!args.positional().empty()) throw UsageError{"takes no arguments"};
  for (const auto& a : algorithms()) {
    std::cout << a.name << "\n    " << a.summary << "\n";
    std::cout << "    fencing token: " << (a.has_fencing_token ? "yes" : "no");
    if (!a.option_keys.empty()) {
      std::cout << "; options:";
      for (const auto& k : a.option_keys) std::cout << " " << k;
    }
    std::cout << "\n";
  }
  return 0;
}

}  // namespace lockstep::cli
