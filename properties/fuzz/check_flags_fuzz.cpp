// `lockstep check`'s flags, one argument a line, read as check_command reads them up to
// the search: check_args, common_flags, then algo_search (--algo: --faults, --option,
// --resource, --fencing, --shard) or matrix_config (--all). --option's values are checked
// by the algorithm's option specs there (option_fuzz aims at those alone).
#include "cli/args.h"
#include "cli/check_search.h"
#include "core/options.h"
#include "properties/fuzz/fuzz_input.h"
#include "sim/scenario.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lockstep;
  try {
    const cli::Args args = cli::check_args(fuzz::lines(data, size));
    if (args.has("--help") || !args.positional().empty()) return 0;
    const cli::CommonFlags common = cli::common_flags(args);
    if (args.has("--all")) {
      cli::matrix_config(args, common);
      if (auto shard = args.value("--shard")) cli::parse_shard(*shard);
    } else {
      const cli::AlgoSearch setup = cli::algo_search(args, common);
      (void)setup;
    }
  } catch (const cli::UsageError&) {
  } catch (const sim::ScenarioError&) {
  } catch (const OptionError&) {
  }
  return 0;
}
