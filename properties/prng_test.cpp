// The one PRNG of both worlds (core/prng.h): xoshiro256** seeded through splitmix64, with
// a fixed output (a replay depends on it), and a live process's Env draws the very same
// stream from the same seed.
#include "core/prng.h"

#include <gtest/gtest.h>

#include "real/event_loop.h"
#include "real/live_env.h"

namespace lockstep {
namespace {

TEST(Prng, FixedOutputForAFixedSeed) {
  // Computed independently from the published xoshiro256** and splitmix64 definitions.
  Prng p(42);
  EXPECT_EQ(p.next(), 0x15780b2e0c2ec716ull);
  EXPECT_EQ(p.next(), 0x6104d9866d113a7eull);
  EXPECT_EQ(p.next(), 0xae17533239e499a1ull);
  EXPECT_EQ(p.next(), 0xecb8ad4703b360a1ull);
}

TEST(Prng, LiveEnvDrawsTheSameStream) {
  real::EventLoop loop;
  real::LiveEnv env(loop, 0, 42);
  Prng p(42);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(env.random64(), p.next()) << "draw " << i;
}

}  // namespace
}  // namespace lockstep
