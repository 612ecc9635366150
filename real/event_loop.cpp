#include "real/event_loop.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace lockstep::real {

namespace {
// A loop that never runs out of work still reads its sockets after this many units.
constexpr int kUnitsBetweenIo = 64;
}  // namespace

EventLoop::EventLoop() : wake_fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (wake_fd_ < 0)
    throw std::runtime_error(std::string("EventLoop: eventfd: ") + std::strerror(errno));
}

EventLoop::~EventLoop() { close(wake_fd_); }

void EventLoop::wake_up() {
  const uint64_t one = 1;
  // A full counter (it cannot be, at 2^64 - 1) or EAGAIN still leaves the fd readable.
  [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof one);
}

void EventLoop::post(Callback fn) {
  bool sleeping;
  {
    std::lock_guard lock(mu_);
    ready_.push_back(std::move(fn));
    sleeping = sleeping_;
  }
  if (sleeping) wake_up();
}

uint64_t EventLoop::add_timer(Clock::time_point when, Callback fn) {
  uint64_t id;
  bool sleeping;
  {
    std::lock_guard lock(mu_);
    id = ++next_timer_id_;
    timers_.emplace(std::make_pair(when, id), std::move(fn));
    timer_index_.emplace(id, when);
    sleeping = sleeping_;
  }
  // The loop may be sleeping until a later timer.
  if (sleeping) wake_up();
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
  wake_up();
}

void EventLoop::add_source(IoSource* source) {
  {
    std::lock_guard lock(mu_);
    sources_.push_back(source);
  }
  // A sleeping loop must add the new socket to its wait.
  wake_up();
}

void EventLoop::remove_source(IoSource* source) {
  std::lock_guard lock(mu_);
  sources_.erase(std::remove(sources_.begin(), sources_.end(), source), sources_.end());
}

void EventLoop::promote_due_timers_locked(Clock::time_point now) {
  while (!timers_.empty() && timers_.begin()->first.first <= now) {
    auto node = timers_.extract(timers_.begin());
    timer_index_.erase(node.key().second);
    ready_.push_back(std::move(node.mapped()));
  }
}

void EventLoop::wait_for_io(std::optional<Clock::time_point> wake) {
  std::vector<IoSource*> sources;
  {
    std::lock_guard lock(mu_);
    sources = sources_;
  }
  std::vector<pollfd> fds(sources.size() + 1);
  fds[0] = {wake_fd_, POLLIN, 0};
  for (size_t i = 0; i < sources.size(); ++i) {
    const IoSource::Interest in = sources[i]->interest();
    fds[i + 1] = {in.fd, in.fd >= 0 ? in.events : static_cast<short>(0), 0};
    if (in.by && (!wake || *in.by < *wake)) wake = in.by;
  }
  timespec ts{};
  timespec* timeout = nullptr;
  if (wake) {
    const auto left = std::max(Clock::duration::zero(), *wake - Clock::now());
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
    ts.tv_sec = static_cast<time_t>(ns / 1000000000);
    ts.tv_nsec = static_cast<long>(ns % 1000000000);
    timeout = &ts;
  }
  // A negative fd is skipped by ppoll: a source with no socket is only told the time.
  ppoll(fds.data(), fds.size(), timeout, nullptr);
  if (fds[0].revents) {
    uint64_t count;
    [[maybe_unused]] ssize_t n = read(wake_fd_, &count, sizeof count);
  }
  since_io_ = 0;
  ExecutorScope scope(this);
  for (size_t i = 0; i < sources.size(); ++i) {
    {
      // Removed by an earlier source's work in this same turn: it may be gone.
      std::lock_guard lock(mu_);
      if (std::find(sources_.begin(), sources_.end(), sources[i]) == sources_.end()) continue;
    }
    sources[i]->ready(fds[i + 1].revents);
  }
}

std::optional<Callback> EventLoop::next(std::optional<Clock::time_point> deadline, bool wait) {
  for (;;) {
    bool read_sockets = false;
    std::optional<Clock::time_point> wake;
    {
      std::unique_lock lock(mu_);
      promote_due_timers_locked(Clock::now());
      if (stop_requested_) return std::nullopt;
      if (!ready_.empty() && (since_io_ < kUnitsBetweenIo || sources_.empty())) {
        ++since_io_;
        Callback fn = std::move(ready_.front());
        ready_.pop_front();
        return fn;
      }
      if (!ready_.empty() || !wait) {
        // Work is waiting (the sockets are only read in passing), or the caller does
        // not wait: read what the sockets have without sleeping.
        if (sources_.empty()) return std::nullopt;
        read_sockets = true;
        wake = Clock::now();
      } else {
        wake = deadline;
        if (!timers_.empty()) {
          auto t = timers_.begin()->first.first;
          if (!wake || t < *wake) wake = t;
        }
        if (deadline && Clock::now() >= *deadline) return std::nullopt;
        sleeping_ = true;
      }
    }
    wait_for_io(wake);
    bool had_work;
    {
      std::lock_guard lock(mu_);
      sleeping_ = false;
      had_work = !ready_.empty();
    }
    // Not waiting, and the sockets brought nothing: done.
    if (read_sockets && !wait && !had_work) return std::nullopt;
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
