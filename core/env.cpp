#include "core/env.h"

namespace lockstep {

uint64_t Env::uniform(uint64_t bound) {
  if (bound <= 1) return 0;
  // Rejection sampling: the same bits give the same answer on every platform.
  uint64_t limit = UINT64_MAX - (UINT64_MAX % bound);
  for (;;) {
    uint64_t r = random64();
    if (r < limit) return r % bound;
  }
}

Duration Env::uniform_duration(Duration lo, Duration hi) {
  if (hi <= lo) return lo;
  return lo + Duration(static_cast<int64_t>(uniform(static_cast<uint64_t>((hi - lo).count()) + 1)));
}

std::string Env::random_hex_id() {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (int part = 0; part < 2; ++part) {
    uint64_t r = random64();
    for (int i = 0; i < 16; ++i) {
      out.push_back(digits[r & 15]);
      r >>= 4;
    }
  }
  return out;
}

}  // namespace lockstep
