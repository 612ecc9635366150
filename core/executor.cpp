#include "core/executor.h"

namespace lockstep {

namespace {
// Thread-local rather than global so that `check --jobs` can run one world per thread.
thread_local Executor* g_current = nullptr;
}  // namespace

void Executor::post_resume(std::shared_ptr<bool> alive, std::coroutine_handle<> h) {
  post(Resumption{std::move(alive), h});
}

Executor* current_executor() { return g_current; }

ExecutorScope::ExecutorScope(Executor* ex) : saved_(g_current) { g_current = ex; }
ExecutorScope::~ExecutorScope() { g_current = saved_; }

}  // namespace lockstep
