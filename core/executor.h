// Where a process's work runs. Every resumption of a coroutine goes through the
// executor of the process that awaited, so a paused process runs nothing, a crashed one
// never runs again, and the live runtime resumes on its own loop thread.
#pragma once

#include <coroutine>
#include <functional>
#include <memory>

namespace lockstep {

using Callback = std::function<void()>;

// A suspended coroutine's resumption: resumes h unless *alive went false meanwhile (the
// wait was abandoned, its frame destroyed), and clears it, so a wait resumes once.
struct Resumption {
  std::shared_ptr<bool> alive;
  std::coroutine_handle<> h;
  void operator()() const {
    if (*alive) {
      *alive = false;
      h.resume();
    }
  }
};

class Executor {
 public:
  virtual ~Executor() = default;
  // Runs fn later, on this executor, after the work already posted.
  virtual void post(Callback fn) = 0;
  // Resumes h later, as post would, unless the coroutine was destroyed meanwhile (see
  // Resumption). Every co_await of a future ends here, so a runtime may keep the
  // resumption as it is rather than wrap it in a Callback.
  virtual void post_resume(std::shared_ptr<bool> alive, std::coroutine_handle<> h);
};

// The executor whose work is running on this thread right now (nullptr outside any).
Executor* current_executor();

// Marks the executor whose work runs in this scope; runtimes wrap each unit of work in one.
class ExecutorScope {
 public:
  explicit ExecutorScope(Executor* ex);
  ~ExecutorScope();
  ExecutorScope(const ExecutorScope&) = delete;
  ExecutorScope& operator=(const ExecutorScope&) = delete;

 private:
  Executor* saved_;
};

}  // namespace lockstep
