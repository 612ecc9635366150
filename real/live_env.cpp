#include "real/live_env.h"

#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

namespace lockstep::real {

Time steady_now() {
  return std::chrono::duration_cast<Time>(std::chrono::steady_clock::now().time_since_epoch());
}

Time true_steady_now() {
  timespec ts{};
  ::syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

namespace {

// Seed 0 asks for a seed of this process's own. Live runs are not replayable anyway;
// distinct processes just need distinct streams.
uint64_t process_seed(uint64_t seed, int client_index) {
  if (seed != 0) return seed;
  uint64_t wall =
      static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
  seed = static_cast<uint64_t>(getpid()) * 0x100000001b3ULL ^ wall ^
         static_cast<uint64_t>(steady_now().count()) ^ (static_cast<uint64_t>(client_index) << 48);
  return seed == 0 ? 1 : seed;
}

}  // namespace

LiveEnv::LiveEnv(EventLoop& loop, int client_index, uint64_t seed)
    : loop_(loop), index_(client_index), seed_(process_seed(seed, client_index)), rng_(seed_) {}

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

uint64_t LiveEnv::random64() { return rng_.next(); }

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
