#include "real/event_loop.h"

namespace lockstep::real {

void EventLoop::post(Callback fn) {
  {
    std::lock_guard lock(mu_);
    ready_.push_back(std::move(fn));
  }
  cv_.notify_one();
}

uint64_t EventLoop::add_timer(Clock::time_point when, Callback fn) {
  uint64_t id;
  {
    std::lock_guard lock(mu_);
    id = ++next_timer_id_;
    timers_.emplace(std::make_pair(when, id), std::move(fn));
    timer_index_.emplace(id, when);
  }
  // The loop may be sleeping until a later timer.
  cv_.notify_one();
  return id;
}

bool EventLoop::cancel_timer(uint64_t id) {
  std::lock_guard lock(mu_);
  auto it = timer_index_.find(id);
  if (it == timer_index_.end()) return false;
  timers_.erase(std::make_pair(it->second, id));
  timer_index_.erase(it);
  return true;
}

void EventLoop::stop() {
  {
    std::lock_guard lock(mu_);
    stop_requested_ = true;
  }
  cv_.notify_all();
}

void EventLoop::promote_due_timers_locked(Clock::time_point now) {
  while (!timers_.empty() && timers_.begin()->first.first <= now) {
    auto node = timers_.extract(timers_.begin());
    timer_index_.erase(node.key().second);
    ready_.push_back(std::move(node.mapped()));
  }
}

std::optional<Callback> EventLoop::next(std::optional<Clock::time_point> deadline, bool wait) {
  std::unique_lock lock(mu_);
  for (;;) {
    promote_due_timers_locked(Clock::now());
    if (stop_requested_) return std::nullopt;
    if (!ready_.empty()) {
      Callback fn = std::move(ready_.front());
      ready_.pop_front();
      return fn;
    }
    if (!wait) return std::nullopt;
    std::optional<Clock::time_point> wake = deadline;
    if (!timers_.empty()) {
      auto t = timers_.begin()->first.first;
      if (!wake || t < *wake) wake = t;
    }
    if (wake) {
      if (deadline && Clock::now() >= *deadline) return std::nullopt;
      cv_.wait_until(lock, *wake);
    } else {
      cv_.wait(lock);
    }
  }
}

void EventLoop::run_one(Callback& fn) {
  ExecutorScope scope(this);
  fn();
}

void EventLoop::run() {
  while (auto fn = next(std::nullopt, true)) run_one(*fn);
  std::lock_guard lock(mu_);
  stop_requested_ = false;
}

bool EventLoop::run_until(const std::function<bool()>& done,
                          std::optional<Clock::time_point> deadline) {
  for (;;) {
    if (done()) return true;
    if (deadline && Clock::now() >= *deadline) return false;
    auto fn = next(deadline, true);
    if (!fn) {
      std::lock_guard lock(mu_);
      if (stop_requested_) {
        stop_requested_ = false;
        break;
      }
      continue;
    }
    run_one(*fn);
  }
  return done();
}

size_t EventLoop::run_ready() {
  size_t n = 0;
  while (auto fn = next(std::nullopt, false)) {
    run_one(*fn);
    ++n;
  }
  return n;
}

}  // namespace lockstep::real
