// `lockstep repro --catalogue DIR`: an entry.json of a user's catalogue (docs/repro.md),
// read by parse_catalogue beside the built-in catalogue's scenario files (so a variant
// can name any of them by file name).
#include <filesystem>

#include "properties/fuzz/fuzz_input.h"
#include "sim/repro/catalogue.h"
#include "sim/scenario.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lockstep::sim;
  static const repro::CatalogueFiles scenarios = [] {
    repro::CatalogueFiles out;
    for (const auto& [path, text] : repro::builtin_catalogue_files())
      if (std::filesystem::path(path).filename() != "entry.json")
        out["fuzzed/" + std::filesystem::path(path).filename().string()] = text;
    return out;
  }();
  repro::CatalogueFiles files = scenarios;
  files["fuzzed/entry.json"] = lockstep::fuzz::text(data, size);
  try {
    repro::parse_catalogue(files);
  } catch (const repro::CatalogueError&) {
  }
  return 0;
}
