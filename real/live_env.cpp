#include "real/live_env.h"

#include <unistd.h>

namespace lockstep::real {

namespace {

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

Time steady_now() {
  return std::chrono::duration_cast<Time>(std::chrono::steady_clock::now().time_since_epoch());
}

LiveEnv::LiveEnv(EventLoop& loop, int client_index, uint64_t seed)
    : loop_(loop), index_(client_index), seed_(seed) {
  if (seed_ == 0) {
    // Live runs are not replayable anyway; distinct processes just need distinct streams.
    uint64_t wall =
        static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
    seed_ = static_cast<uint64_t>(getpid()) * 0x100000001b3ULL ^ wall ^
            static_cast<uint64_t>(steady_now().count()) ^
            (static_cast<uint64_t>(client_index) << 48);
    if (seed_ == 0) seed_ = 1;
  }
  uint64_t x = seed_;
  for (auto& word : rng_) word = splitmix64(x);
}

LiveEnv::~LiveEnv() { *alive_ = false; }

Time LiveEnv::now() const { return steady_now(); }

Future<Unit> LiveEnv::timer_at(Time t) {
  if (t <= now()) return Future<Unit>::ready_with(Unit{});
  Promise<Unit> p;
  auto when =
      EventLoop::Clock::time_point(std::chrono::duration_cast<EventLoop::Clock::duration>(t));
  loop_.add_timer(when, [p]() mutable { p.set(Unit{}); });
  return p.future();
}

uint64_t LiveEnv::random64() {
  // xoshiro256**
  uint64_t* s = rng_;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

void LiveEnv::spawn(Task<void> task) {
  roots_.push_back(std::make_unique<RootTask>(std::move(task)));
  RootTask* root = roots_.back().get();
  loop_.post([root, alive = alive_] {
    if (*alive) root->start();
  });
}

void LiveEnv::rethrow_failures() {
  for (auto& r : roots_) r->rethrow_if_failed();
}

}  // namespace lockstep::real
