// One-shot values and the ways a coroutine waits for them.
//
// A Promise<T> is set exactly once by whoever produces the value (a store reply, a watch
// notification, a timer). Any number of Futures share it. `co_await future` suspends
// until it is set; `co_await first_of(a, b, ...)` until any one of several is set. The
// waiting coroutine is resumed through the executor it suspended on, never inline in
// the producer's call stack, so producers never see re-entrant calls.
#pragma once

#include <array>
#include <cassert>
#include <coroutine>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <variant>
#include <vector>

#include "core/executor.h"

namespace lockstep {

struct Unit {
  friend bool operator==(Unit, Unit) { return true; }
};

namespace detail {

// Resumes h on ex unless the wait was abandoned (the coroutine was destroyed meanwhile).
struct Resumer {
  std::shared_ptr<bool> alive;
  std::coroutine_handle<> h;
  Executor* ex;
  void operator()() const {
    if (ex)
      ex->post_resume(alive, h);
    else
      Resumption{alive, h}();
  }
};

class StateBase {
 public:
  bool ready() const { return ready_; }

  // Runs fn (on the setter's stack) once the value is set; returns an id for unsubscribe.
  uint64_t subscribe(Callback fn) { return add(Waiter{0, std::move(fn)}); }
  // The same for a waiting coroutine: kept as it is, not wrapped in a Callback, since
  // every co_await comes here.
  uint64_t subscribe(Resumer r) { return add(Waiter{0, std::move(r)}); }
  void unsubscribe(uint64_t id) {
    if (first_ && first_->id == id) {
      first_.reset();
      return;
    }
    for (auto it = rest_.begin(); it != rest_.end(); ++it) {
      if (it->id == id) {
        rest_.erase(it);
        return;
      }
    }
  }

 protected:
  void mark_ready() {
    ready_ = true;
    // Waiters run in the order they subscribed; one may subscribe elsewhere or unsubscribe
    // here meanwhile, so the lists are taken first.
    std::optional<Waiter> first = std::move(first_);
    first_.reset();
    std::vector<Waiter> rest = std::move(rest_);
    rest_.clear();
    if (first) first->run();
    for (auto& w : rest) w.run();
  }

 private:
  struct Waiter {
    uint64_t id;
    std::variant<Resumer, Callback> action;
    void run() {
      std::visit([](auto& act) { act(); }, action);
    }
  };
  uint64_t add(Waiter w) {
    assert(!ready_);
    w.id = ++last_id_;
    const uint64_t id = w.id;
    // Most states have one waiter: it waits inline, without an allocation. The first slot
    // is used only while nobody waits behind it, so the order stays the subscription order.
    if (!first_ && rest_.empty())
      first_.emplace(std::move(w));
    else
      rest_.push_back(std::move(w));
    return id;
  }

  bool ready_ = false;
  uint64_t last_id_ = 0;
  std::optional<Waiter> first_;
  std::vector<Waiter> rest_;
};

template <class T>
class State : public StateBase {
 public:
  void set(T v) {
    assert(!ready());
    value_.emplace(std::move(v));
    mark_ready();
  }
  const T& value() const { return *value_; }
  T& value() { return *value_; }

 private:
  std::optional<T> value_;
};

}  // namespace detail

template <class T>
class Future;

template <class T>
class Promise {
 public:
  Promise() : state_(std::make_shared<detail::State<T>>()) {}
  void set(T v) { state_->set(std::move(v)); }
  bool is_set() const { return state_->ready(); }
  Future<T> future() const { return Future<T>(state_); }

 private:
  std::shared_ptr<detail::State<T>> state_;
};

template <class T>
class Future {
 public:
  Future() = default;
  explicit Future(std::shared_ptr<detail::State<T>> s) : state_(std::move(s)) {}

  // A future that is ready from the start.
  static Future ready_with(T v) {
    auto s = std::make_shared<detail::State<T>>();
    s->set(std::move(v));
    return Future(std::move(s));
  }

  bool valid() const { return state_ != nullptr; }
  bool ready() const { return state_ && state_->ready(); }
  const T& get() const { return state_->value(); }
  detail::StateBase* base() const { return state_.get(); }

  // Awaiting: suspends until set, then yields a copy of the value.
  struct Awaiter {
    std::shared_ptr<detail::State<T>> s;
    std::shared_ptr<bool> alive;
    uint64_t sub = 0;
    bool await_ready() const { return s->ready(); }
    void await_suspend(std::coroutine_handle<> h) {
      alive = std::make_shared<bool>(true);
      sub = s->subscribe(detail::Resumer{alive, h, current_executor()});
    }
    // Moved out when nothing else can read it (the awaited future was a temporary and
    // the producer has let go): a herd's listings are N names each, and copying them was
    // a tenth of a large herd's time. Copied otherwise, as any Future may be read again.
    T await_resume() {
      if (s.use_count() == 1) return std::move(s->value());
      return s->value();
    }
    ~Awaiter() {
      // Destroyed while still waiting: the coroutine frame is going away.
      if (alive && *alive) {
        *alive = false;
        s->unsubscribe(sub);
      }
    }
  };
  Awaiter operator co_await() const& {
    assert(state_);
    return Awaiter{state_, nullptr, 0};
  }
  // A temporary future hands its state to the awaiter, so that the awaiter may be the
  // value's only reader.
  Awaiter operator co_await() && {
    assert(state_);
    return Awaiter{std::move(state_), nullptr, 0};
  }

 private:
  std::shared_ptr<detail::State<T>> state_;
};

// Awaiting first_of(f0, f1, ...) yields the index of a future that is ready (the lowest
// index if several already are). The others stay pending and may be awaited later.
template <size_t N>
class FirstOf {
 public:
  explicit FirstOf(std::array<detail::StateBase*, N> states) : states_(states) {}
  bool await_ready() const {
    for (auto* s : states_)
      if (s && s->ready()) return true;
    return false;
  }
  void await_suspend(std::coroutine_handle<> h) {
    alive_ = std::make_shared<bool>(true);
    detail::Resumer r{alive_, h, current_executor()};
    for (size_t i = 0; i < N; ++i) subs_[i] = states_[i] ? states_[i]->subscribe(r) : 0;
    subscribed_ = true;
  }
  size_t await_resume() {
    unsubscribe_all();
    for (size_t i = 0; i < N; ++i)
      if (states_[i] && states_[i]->ready()) return i;
    assert(false && "first_of resumed with nothing ready");
    return N;
  }
  ~FirstOf() {
    if (alive_) *alive_ = false;
    unsubscribe_all();
  }
  FirstOf(FirstOf&& o) noexcept
      : states_(o.states_),
        subs_(o.subs_),
        alive_(std::move(o.alive_)),
        subscribed_(std::exchange(o.subscribed_, false)) {}

 private:
  void unsubscribe_all() {
    if (!subscribed_) return;
    for (size_t i = 0; i < N; ++i)
      if (states_[i] && !states_[i]->ready()) states_[i]->unsubscribe(subs_[i]);
    subscribed_ = false;
  }
  // Held in place (first_of knows how many): a wait allocates nothing but its liveness flag.
  std::array<detail::StateBase*, N> states_;
  std::array<uint64_t, N> subs_{};
  std::shared_ptr<bool> alive_;
  bool subscribed_ = false;
};

// Futures passed to first_of must outlive the co_await. An invalid (default) future
// never wins, so optional waits can be passed uniformly.
template <class... Fs>
FirstOf<sizeof...(Fs)> first_of(const Fs&... fs) {
  return FirstOf<sizeof...(Fs)>({fs.base()...});
}

}  // namespace lockstep
