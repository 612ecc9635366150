// The one pseudo-random generator of both worlds: xoshiro256**, seeded through
// splitmix64. Fixed algorithm, fixed output on every platform (std::*_distribution is
// avoided on purpose: its output differs between standard libraries). The simulator's
// world and processes draw from it, and so does a live process's Env.
//
// It lives in core/ because it is the standard library only and both sim/ and real/ need
// it; neither may include the other.
#pragma once

#include <cstdint>

#include "core/time.h"

namespace lockstep {

class Prng {
 public:
  explicit Prng(uint64_t seed) {
    uint64_t x = seed;
    for (auto& word : s_) word = splitmix64(x);
  }

  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, bound), by rejection (no modulo bias).
  uint64_t below(uint64_t bound) {
    if (bound <= 1) return 0;
    uint64_t limit = UINT64_MAX - (UINT64_MAX % bound);
    for (;;) {
      uint64_t r = next();
      if (r < limit) return r % bound;
    }
  }
  Duration between(Duration lo, Duration hi) {
    if (hi <= lo) return lo;
    return lo + Duration(static_cast<int64_t>(below(static_cast<uint64_t>((hi - lo).count()) + 1)));
  }
  // True with probability p (53-bit resolution).
  bool chance(double p) {
    if (p <= 0) return false;
    if (p >= 1) return true;
    return static_cast<double>(next() >> 11) * 0x1.0p-53 < p;
  }
  // A new independent stream (for a process), derived from this one.
  uint64_t fork_seed() { return next() ^ 0x9E3779B97F4A7C15ull; }

  static uint64_t splitmix64(uint64_t& x) {
    uint64_t z = (x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace lockstep
