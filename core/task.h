// Task<T>: the coroutine type every algorithm, workload and helper returns.
//
// A Task is lazy: it starts when awaited (or when handed to spawn()), and when it
// finishes it transfers control straight back to its awaiter. The frame belongs to the
// Task object, so destroying a suspended parent destroys its children: that is how a
// crashed process's coroutines disappear without running another line.
#pragma once

#include <cassert>
#include <coroutine>
#include <exception>
#include <memory>
#include <optional>
#include <utility>

#include "core/future.h"

namespace lockstep {

template <class T>
class Task;

namespace detail {

struct PromiseBase {
  std::coroutine_handle<> continuation = std::noop_coroutine();
  std::exception_ptr error;

  std::suspend_always initial_suspend() noexcept { return {}; }
  struct FinalAwaiter {
    bool await_ready() noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
      return h.promise().continuation;
    }
    void await_resume() noexcept {}
  };
  FinalAwaiter final_suspend() noexcept { return {}; }
  void unhandled_exception() { error = std::current_exception(); }
};

template <class T>
struct TaskPromise : PromiseBase {
  std::optional<T> value;
  Task<T> get_return_object();
  template <class U>
  void return_value(U&& v) {
    value.emplace(std::forward<U>(v));
  }
  T take() {
    if (error) std::rethrow_exception(error);
    return std::move(*value);
  }
};

template <>
struct TaskPromise<void> : PromiseBase {
  Task<void> get_return_object();
  void return_void() {}
  void take() {
    if (error) std::rethrow_exception(error);
  }
};

}  // namespace detail

template <class T = void>
class [[nodiscard]] Task {
 public:
  using promise_type = detail::TaskPromise<T>;
  using Handle = std::coroutine_handle<promise_type>;

  Task() = default;
  explicit Task(Handle h) : h_(h) {}
  Task(Task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  Task& operator=(Task&& o) noexcept {
    if (this != &o) {
      if (h_) h_.destroy();
      h_ = std::exchange(o.h_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() {
    if (h_) h_.destroy();
  }

  bool done() const { return !h_ || h_.done(); }

  struct Awaiter {
    Handle h;
    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
      h.promise().continuation = awaiting;
      return h;
    }
    T await_resume() { return h.promise().take(); }
  };
  Awaiter operator co_await() && {
    assert(h_);
    return Awaiter{h_};
  }

  Handle handle() const { return h_; }

 private:
  Handle h_;
};

namespace detail {
template <class T>
Task<T> TaskPromise<T>::get_return_object() {
  return Task<T>(std::coroutine_handle<TaskPromise<T>>::from_promise(*this));
}
inline Task<void> TaskPromise<void>::get_return_object() {
  return Task<void>(std::coroutine_handle<TaskPromise<void>>::from_promise(*this));
}
}  // namespace detail

// A top-level task owned by a runtime (a process): started with start(), its frame is
// destroyed with the RootTask, finished or not. `finished()` tells whether it returned.
class RootTask {
 public:
  explicit RootTask(Task<void> t) : task_(std::move(t)) {}
  void start() { task_.handle().resume(); }
  bool finished() const { return task_.done(); }
  // Rethrows what the task threw, if it finished by throwing.
  void rethrow_if_failed() {
    if (task_.done() && task_.handle() && task_.handle().promise().error)
      std::rethrow_exception(task_.handle().promise().error);
  }

 private:
  Task<void> task_;
};

}  // namespace lockstep
