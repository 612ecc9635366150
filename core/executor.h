// Where a process's work runs. Every resumption of a coroutine goes through the
// executor of the process that awaited, so a paused process runs nothing, a crashed one
// never runs again, and the live runtime resumes on its own loop thread.
#pragma once

#include <functional>

namespace lockstep {

using Callback = std::function<void()>;

class Executor {
 public:
  virtual ~Executor() = default;
  // Runs fn later, on this executor, after the work already posted.
  virtual void post(Callback fn) = 0;
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
