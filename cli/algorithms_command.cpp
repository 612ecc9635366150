// `lockstep algorithms`: the catalogue.
#include <iostream>
#include <string>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/lock.h"

namespace lockstep::cli {

namespace {

// "tries (integer, default 15, 1..1000000): attempts before giving up"
std::string option_line(const OptionSpec& o) {
  std::string facts(option_type_name(o.type));
  if (o.type == OptionType::Choice) {
    facts = "";
    for (const auto& c : o.choices) facts += (facts.empty() ? "" : "|") + c;
  }
  if (!o.default_value.empty()) facts += ", default " + o.default_value;
  if (!o.min.empty() && !o.max.empty())
    facts += ", " + o.min + ".." + o.max;
  else if (!o.min.empty())
    facts += ", at least " + o.min;
  else if (!o.max.empty())
    facts += ", at most " + o.max;
  if (o.positive) facts += ", above 0";
  return o.key + " (" + facts + "): " + o.help;
}

}  // namespace

int algorithms_command(const std::vector<std::string>& argv) {
  Args args(argv, {}, {"--help"});
  if (args.has("--help")) {
    std::cout << "usage: lockstep algorithms\n\nLists the lock algorithms a scenario's "
                 "\"algorithm\" key can name, with their options (type, default, bounds).\n";
    return 0;
  }
  if (!args.positional().empty()) throw UsageError{"takes no arguments"};
  for (const auto& a : algorithms()) {
    std::cout << a.name << "\n    " << a.summary << "\n";
    std::cout << "    fencing token: " << (a.has_fencing_token ? "yes" : "no") << "\n";
    if (!a.options.empty()) std::cout << "    options:\n";
    for (const OptionSpec& o : a.options) std::cout << "      " << option_line(o) << "\n";
  }
  return 0;
}

}  // namespace lockstep::cli
