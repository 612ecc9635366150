// The values of `lockstep live`'s flags that have a reader of their own (live_command
// reads the rest with Args, as check_flags_fuzz covers): --client-cmd (split_command),
// --store zk:... (ZkStore::validate), the durations (--hold, --duration, ...:
// parse_duration) and --lock-path (valid_path). Each line of the input goes to each.
#include <stdexcept>

#include "core/store.h"
#include "core/time.h"
#include "properties/fuzz/fuzz_input.h"
#include "real/blackbox/client_backend.h"
#include "real/zk_store.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lockstep;
  for (const std::string& value : fuzz::lines(data, size)) {
    try {
      if (real::blackbox::split_command(value).empty())
        fuzz::finding("split_command accepted no words");
    } catch (const std::invalid_argument&) {
    }
    real::ZkStore::validate(value);
    if (auto d = parse_duration(value)) {
      // What the parser reads, written back, reads the same (a flag's value in a report).
      if (parse_duration(format_duration(*d)) != d)
        fuzz::finding("format_duration(parse_duration(\"" + value + "\")) reads differently");
    }
    valid_path(value);
  }
  return 0;
}
