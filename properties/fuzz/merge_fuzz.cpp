// `lockstep merge DIR --out D`: the input is a shard file (DIR/lockstep-shard-0-of-1.json,
// docs/check.md "Sharded searches and merge") and merge_command reads it as the command
// line does: the manifest, the search its args rebuild, and the findings it records.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/options.h"
#include "properties/fuzz/fuzz_input.h"
#include "sim/scenario.h"

namespace {

namespace fs = std::filesystem;

// One scratch directory per process: the shard's dir and the merge's --out in it.
const fs::path& scratch() {
  static const fs::path dir = [] {
    std::string templ = (fs::temp_directory_path() / "lockstep-merge-fuzz-XXXXXX").string();
    if (!::mkdtemp(templ.data())) lockstep::fuzz::finding("cannot make a scratch directory");
    fs::create_directories(fs::path(templ) / "shards");
    std::atexit([] { fs::remove_all(scratch()); });
    return fs::path(templ);
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lockstep;
  const fs::path shards = scratch() / "shards";
  const fs::path out = scratch() / "out";
  {
    std::ofstream f(shards / "lockstep-shard-0-of-1.json", std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  fs::remove_all(out);
  try {
    cli::merge_command({shards.string(), "--out", out.string()});
  } catch (const cli::UsageError&) {
  } catch (const sim::ScenarioError&) {
  } catch (const OptionError&) {
  }
  return 0;
}
