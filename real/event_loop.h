// The live runtime's executor: one loop per process, on one thread. Work is posted from
// any thread (helper threads post what they learn here), so that a process's coroutines
// still run one at a time, as in the simulator. The loop also drives I/O sources (the
// ZooKeeper sessions of the single-threaded C client: real/zk_store.cpp): while it has no
// work it sleeps in ppoll() on their sockets, its timers and a wake-up eventfd.
//
// ppoll, not a condition variable: libfaketime intercepts it and turns a timeout read on
// the faked clock into a true one at the faked rate, so that under a live `clock` fault
// (real/fake_clock.h) the loop's timers keep the process's faked time.
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
#include <vector>

#include "core/executor.h"

namespace lockstep::real {

// Something the loop waits on besides its own work: a socket, and a time by which it must
// be called whatever the socket does (a client's pings and timeouts).
class IoSource {
 public:
  virtual ~IoSource() = default;
  struct Interest {
    int fd = -1;                                              // -1: no socket to wait on now
    short events = 0;                                         // POLLIN / POLLOUT
    std::optional<std::chrono::steady_clock::time_point> by;  // call ready() by then at the latest
  };
  virtual Interest interest() = 0;
  // Called on the loop thread after each wait, with what poll() reported for the socket
  // (0: nothing, the wait ended for another reason).
  virtual void ready(short revents) = 0;
};

class EventLoop final : public Executor {
 public:
  using Clock = std::chrono::steady_clock;

  EventLoop();
  ~EventLoop() override;
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

  // Thread-safe. A source is asked for its interest before every wait and told after it,
  // until it is removed; remove it on the loop thread (or while the loop does not run)
  // before it is destroyed.
  void add_source(IoSource* source);
  void remove_source(IoSource* source);

 private:
  // Pops the next unit of work, waiting for it until `deadline` (nullopt: forever) unless
  // stop() was called. Empty result: nothing to run.
  std::optional<Callback> next(std::optional<Clock::time_point> deadline, bool wait);
  void promote_due_timers_locked(Clock::time_point now);
  void run_one(Callback& fn);
  // Waits in ppoll until a source's socket is ready, a post or a timer wakes the loop, or
  // `wake` (nullopt: no limit but the sources'), then tells every source.
  void wait_for_io(std::optional<Clock::time_point> wake);
  void wake_up();

  mutable std::mutex mu_;
  int wake_fd_ = -1;       // an eventfd: written by post() and add_timer() while the loop sleeps
  bool sleeping_ = false;  // guarded by mu_
  std::vector<IoSource*> sources_;  // guarded by mu_
  // Work run since the sources were last told: a loop that always has work still reads
  // its sockets every so many units.
  int since_io_ = 0;
  std::deque<Callback> ready_;
  // Ordered by (time, id): timers due at the same instant run in the order they were set.
  std::map<std::pair<Clock::time_point, uint64_t>, Callback> timers_;
  std::unordered_map<uint64_t, Clock::time_point> timer_index_;
  uint64_t next_timer_id_ = 0;
  bool stop_requested_ = false;
};

}  // namespace lockstep::real
