// Live-ZooKeeper helpers shared by the benchmark programs: open and close a session on
// a LiveEnv, and a short-lived admin session for set-up and clean-up.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "core/store.h"
#include "core/task.h"
#include "real/event_loop.h"
#include "real/live_env.h"
#include "real/zk_store.h"

namespace lockstep::bench {

// Every benchmark path lives under this node.
inline const std::string kLiveBase = "/lockstep-bench";

inline Task<ConnectReply> connect_on(Store& store, Env& env, Duration session_timeout) {
  co_return co_await store.connect(env, session_timeout);
}

inline Task<void> close_on(std::shared_ptr<Session> s) { co_await s->close(); }

// Runs `body(session)` on a session of its own (10 s timeout), then closes it.
template <class F>
Error with_admin_session(const std::string& connect, F&& body) {
  using namespace std::chrono_literals;
  real::EventLoop loop;
  real::LiveEnv env(loop, 1000);
  real::ZkStore store(connect);
  ConnectReply r = real::run_task(env, connect_on(store, env, 10s), 60s);
  if (r.err != Error::Ok) return r.err;
  Error e = real::run_task(env, body(*r.session), 120s);
  real::run_task(env, close_on(r.session), 30s);
  return e;
}

inline Task<Error> prepare(Session& s, std::string dir) {
  co_return co_await real::ensure_path(s, dir);
}

// Removes a run's path, and the base too once no other run uses it.
inline Task<Error> cleanup(Session& s, std::string path, std::string base) {
  Error e = co_await real::remove_recursive(s, path);
  co_await s.remove(base, -1);  // NotEmpty while other runs use it: fine
  co_return e;
}

}  // namespace lockstep::bench
