// The live runtime's executor: one loop per process, on one thread. Work is posted from
// any thread (the ZooKeeper client's completion thread posts every reply and watch event
// here), so that a process's coroutines still run one at a time, as in the simulator.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <utility>

#include "core/executor.h"
#include "real/monotonic_condition.h"

namespace lockstep::real {

class EventLoop final : public Executor {
 public:
  using Clock = std::chrono::steady_clock;

  EventLoop() = default;
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Thread-safe; fn runs on the loop after the work already posted.
  void post(Callback fn) override;

  // Thread-safe; fn runs on the loop once the steady clock reads `when`. Returns an id
  // for cancel_timer.
  uint64_t add_timer(Clock::time_point when, Callback fn);
  // Thread-safe; false if the timer already ran or never existed.
  bool cancel_timer(uint64_t id);

  // Runs work until stop() is called.
  void run();
  // Runs work until done() holds (checked between units of work, on the loop thread) or
  // the deadline passes. Returns done().
  bool run_until(const std::function<bool()>& done,
                 std::optional<Clock::time_point> deadline = std::nullopt);
  // Runs the work that is ready now, without waiting. Returns how many units ran.
  size_t run_ready();
  // Thread-safe: makes the current (or next) run()/run_until() return.
  void stop();

 private:
  // Pops the next unit of work, waiting for it until `deadline` (nullopt: forever) unless
  // stop() was called. Empty result: nothing to run.
  std::optional<Callback> next(std::optional<Clock::time_point> deadline, bool wait);
  void promote_due_timers_locked(Clock::time_point now);
  void run_one(Callback& fn);

  mutable std::mutex mu_;
  MonotonicCondition cv_;  // not std::condition_variable: see monotonic_condition.h
  std::deque<Callback> ready_;
  // Ordered by (time, id): timers due at the same instant run in the order they were set.
  std::map<std::pair<Clock::time_point, uint64_t>, Callback> timers_;
  std::unordered_map<uint64_t, Clock::time_point> timer_index_;
  uint64_t next_timer_id_ = 0;
  bool stop_requested_ = false;
};

}  // namespace lockstep::real
