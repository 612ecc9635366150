// A condition variable whose timed wait reads CLOCK_MONOTONIC through
// pthread_cond_timedwait on a condition made with pthread_cond_init.
//
// std::condition_variable waits for a steady-clock time with pthread_cond_clockwait, which
// libfaketime does not intercept: in a client whose clock a live `clock` fault runs fast
// (real/fake_clock.h), the deadline, read on the faked clock, would be waited for on the
// true one, and the loop's timers would keep true time. libfaketime does intercept
// pthread_cond_init and pthread_cond_timedwait, and turns the faked deadline into a true
// one at the faked rate; without it, this is an ordinary monotonic wait.
#pragma once

#include <pthread.h>
#include <time.h>

#include <chrono>
#include <mutex>

namespace lockstep::real {

class MonotonicCondition {
 public:
  MonotonicCondition() {
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&cond_, &attr);
    pthread_condattr_destroy(&attr);
  }
  ~MonotonicCondition() { pthread_cond_destroy(&cond_); }
  MonotonicCondition(const MonotonicCondition&) = delete;
  MonotonicCondition& operator=(const MonotonicCondition&) = delete;

  void notify_one() { pthread_cond_signal(&cond_); }
  void notify_all() { pthread_cond_broadcast(&cond_); }
  void wait(std::unique_lock<std::mutex>& lock) {
    pthread_cond_wait(&cond_, lock.mutex()->native_handle());
  }
  // Until the steady clock (CLOCK_MONOTONIC) reads `when`, or a notify.
  void wait_until(std::unique_lock<std::mutex>& lock, std::chrono::steady_clock::time_point when) {
    const auto ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(when.time_since_epoch()).count();
    timespec ts{};
    if (ns > 0) {
      ts.tv_sec = static_cast<time_t>(ns / 1000000000);
      ts.tv_nsec = static_cast<long>(ns % 1000000000);
    }
    pthread_cond_timedwait(&cond_, lock.mutex()->native_handle(), &ts);
  }

 private:
  pthread_cond_t cond_;
};

}  // namespace lockstep::real
