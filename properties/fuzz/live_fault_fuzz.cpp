// `lockstep live --fault F` (NAME:PARAM:..., docs/live.md), read by parse_live_fault as
// live_command reads it, for a run of 1, 3 and 64 clients. An accepted fault must write
// back (live_fault_text) to a form that reads to the same text.
#include <stdexcept>

#include "properties/fuzz/fuzz_input.h"
#include "sim/faults/live_form.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lockstep;
  const std::string text = fuzz::text(data, size);
  for (int clients : {1, 3, 64}) {
    LiveFault f;
    try {
      f = sim::parse_live_fault(text, clients);
    } catch (const std::invalid_argument&) {
      continue;  // live_command turns it into one line
    }
    const std::string written = sim::live_fault_text(f);
    try {
      if (sim::live_fault_text(sim::parse_live_fault(written, clients)) != written)
        fuzz::finding("live_fault_text(parse(\"" + written + "\")) differs");
    } catch (const std::invalid_argument& e) {
      fuzz::finding("live_fault_text wrote \"" + written + "\", refused: " + e.what());
    }
  }
  return 0;
}
