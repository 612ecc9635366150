// The live process environment: the machine's steady clock, timers on the event loop, a
// random stream seeded from the process, and spawned tasks that live as long as the
// process. Algorithms see the same Env interface as in the simulator.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/env.h"
#include "core/prng.h"
#include "core/task.h"
#include "real/event_loop.h"

namespace lockstep::real {

class LiveEnv final : public Env {
 public:
  // seed 0: drawn from the pid, the clocks and the client index (runs differ).
  LiveEnv(EventLoop& loop, int client_index, uint64_t seed = 0);
  ~LiveEnv() override;
  LiveEnv(const LiveEnv&) = delete;
  LiveEnv& operator=(const LiveEnv&) = delete;

  // Nanoseconds of std::chrono::steady_clock (CLOCK_MONOTONIC on Linux).
  Time now() const override;
  Future<Unit> timer_at(Time t) override;
  uint64_t random64() override;
  Executor& executor() override { return loop_; }
  int client_index() const override { return index_; }
  // Starts the task on the loop (never inline: the caller may be on another thread or
  // outside any executor scope).
  void spawn(Task<void> task) override;

  EventLoop& loop() { return loop_; }
  uint64_t seed() const { return seed_; }
  // Rethrows the first exception a spawned task finished with, if any.
  void rethrow_failures();

 private:
  EventLoop& loop_;
  int index_;
  uint64_t seed_;
  Prng rng_;
  std::vector<std::unique_ptr<RootTask>> roots_;
  // Posted starts check it: a task posted but not started when the env goes is dropped.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// Steady-clock time as the Env reports it, for stamping events outside any Env.
Time steady_now();
// CLOCK_MONOTONIC read with the system call itself, which libfaketime does not intercept:
// the machine's clock even in a client whose own clock a live `clock` fault fakes
// (real/fake_clock.h). History events are stamped with it, so that the checkers compare
// true times; the algorithm's Env::now() is steady_now(), the faked one.
Time true_steady_now();

struct TaskTimeout : std::runtime_error {
  using std::runtime_error::runtime_error;
};

namespace detail {
template <class T>
Task<void> store_result(Task<T> task, std::optional<T>* out) {
  out->emplace(co_await std::move(task));
}
inline Task<void> store_result(Task<void> task, bool* out) {
  co_await std::move(task);
  *out = true;
}
}  // namespace detail

// Runs `task` on the env's loop (on this thread) until it returns, and returns its value
// or rethrows what it threw. Throws TaskTimeout if it has not returned after `timeout`;
// its frame is then destroyed where it was suspended.
template <class T>
T run_task(LiveEnv& env, Task<T> task, Duration timeout = std::chrono::seconds(60)) {
  auto deadline =
      EventLoop::Clock::now() + std::chrono::duration_cast<EventLoop::Clock::duration>(timeout);
  using Out = std::conditional_t<std::is_void_v<T>, bool, std::optional<T>>;
  Out out{};
  // Shared with the posted start only weakly: after a timeout the root is gone and a
  // start still queued does nothing.
  auto root = std::make_shared<RootTask>(detail::store_result(std::move(task), &out));
  env.loop().post([weak = std::weak_ptr<RootTask>(root)] {
    if (auto r = weak.lock()) r->start();
  });
  if (!env.loop().run_until([&] { return root->finished(); }, deadline))
    throw TaskTimeout("task did not finish in time");
  root->rethrow_if_failed();
  if constexpr (!std::is_void_v<T>) return std::move(*out);
}

}  // namespace lockstep::real
