// The values of `lockstep live`'s flags that have a reader of their own (live_command
// reads the rest with Args, as check_flags_fuzz covers): --client-cmd (split_command),
// --store zk:... (ZkStore::validate), --auth (parse_zk_auth, whose form also reaches a
// client through LOCKSTEP_ZK_AUTH), the durations (--hold, --duration, ...:
// parse_duration) and --lock-path (valid_path). Each line of the input goes to each.
#include <stdexcept>

#include "core/store.h"
#include "core/time.h"
#include "properties/fuzz/fuzz_input.h"
#include "real/blackbox/client_backend.h"
#include "real/zk_auth.h"
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
    std::string why;
    if (auto auth = real::parse_zk_auth(value, why)) {
      // What a client process reads back from its environment.
      auto again = real::parse_zk_auth(real::format_zk_auth(*auth), why);
      if (!again || again->scheme != auth->scheme || again->credentials != auth->credentials)
        fuzz::finding("format_zk_auth(parse_zk_auth(...)) reads differently");
    } else if (why.empty()) {
      fuzz::finding("parse_zk_auth refused without a reason");
    }
    if (auto d = parse_duration(value)) {
      // What the parser reads, written back, reads the same (a flag's value in a report).
      if (parse_duration(format_duration(*d)) != d)
        fuzz::finding("format_duration(parse_duration(\"" + value + "\")) reads differently");
    }
    valid_path(value);
  }
  return 0;
}
