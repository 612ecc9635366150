// A black-box client's stdout (`lockstep live --client-cmd`, docs/live.md): every line it
// writes is read by parse_client_line, which names what is wrong or returns the line.
#include <string_view>

#include "properties/fuzz/fuzz_input.h"
#include "real/blackbox/line_protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lockstep::real::blackbox;
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  const auto parsed = parse_client_line(line);
  if (const auto* l = std::get_if<ClientLine>(&parsed)) {
    if (line_kind_name(l->kind).empty()) lockstep::fuzz::finding("a line kind without a name");
  } else if (std::get<std::string>(parsed).empty()) {
    lockstep::fuzz::finding("a refused line without a reason");
  }
  return 0;
}
