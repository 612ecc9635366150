#include "core/workload.h"

namespace lockstep {

namespace {

HistoryEvent event(int client, EventKind kind, std::string detail = {}) {
  HistoryEvent e;
  e.client = client;
  e.kind = kind;
  e.detail = std::move(detail);
  return e;
}

// Records every session event until the session ends, so the history shows what the
// client library told the process.
Task<void> record_session_events(std::shared_ptr<Session> session, Recorder& recorder, int client,
                                 int store_index) {
  for (;;) {
    SessionEvent ev = co_await session->next_event();
    std::string detail(session_event_name(ev));
    if (store_index > 0) detail += " store=" + std::to_string(store_index);
    recorder.record(event(client, EventKind::SessionChange, detail));
    if (ev == SessionEvent::Expired || ev == SessionEvent::Closed) co_return;
  }
}

Task<std::shared_ptr<Session>> open_session(Env& env, Store& store, Duration timeout,
                                            Recorder& recorder) {
  for (;;) {
    ConnectReply reply = co_await store.connect(env, timeout);
    if (reply.err == Error::Ok) co_return reply.session;
    recorder.record(event(env.client_index(), EventKind::Note,
                          "connect failed: " + std::string(error_name(reply.err))));
    co_await env.sleep_for(std::chrono::seconds(1));
  }
}

}  // namespace

Task<void> run_client(Env& env, Recorder& recorder, WorkloadConfig config) {
  const int me = env.client_index();
  recorder.record(event(me, EventKind::ClientStart));

  std::vector<std::shared_ptr<Session>> sessions;
  std::unique_ptr<Lock> lock;
  for (int cycle = 0; cycle < config.cycles; ++cycle) {
    // Like any application, open (again) the sessions it lacks: at the start, and after
    // one expired. The lock object is made anew on the new sessions.
    bool renew = sessions.empty();
    for (auto& s : sessions)
      renew |= s->state() == SessionState::Expired || s->state() == SessionState::Closed;
    if (renew) {
      lock.reset();
      for (auto& s : sessions) co_await s->close();
      sessions.clear();
      LockContext ctx;
      ctx.env = &env;
      ctx.path = config.lock_path;
      ctx.options = config.options;
      for (size_t i = 0; i < config.stores.size(); ++i) {
        auto session =
            co_await open_session(env, *config.stores[i], config.session_timeout, recorder);
        env.spawn(record_session_events(session, recorder, me, static_cast<int>(i)));
        ctx.sessions.push_back(std::move(session));
      }
      sessions = ctx.sessions;
      lock = config.algorithm->make(std::move(ctx));
    }

    recorder.record(event(me, EventKind::AcquireStart));
    AcquireResult got = co_await lock->acquire(env.now() + config.acquire_timeout);
    if (!got.acquired) {
      recorder.record(event(me, EventKind::AcquireFailed, got.error));
      co_await env.sleep_for(config.think);
      continue;
    }
    HistoryEvent acquired = event(me, EventKind::Acquired);
    acquired.token = got.lease.token;
    recorder.record(acquired);

    // Hold, but stop believing the moment the algorithm says the lock is lost.
    Future<Unit> hold_done = env.sleep_for(config.hold);
    if (got.lease.lost.valid()) {
      size_t which = co_await first_of(hold_done, got.lease.lost);
      if (which == 1) recorder.record(event(me, EventKind::LostObserved));
    } else {
      co_await hold_done;
    }

    recorder.record(event(me, EventKind::ReleaseStart));
    ReleaseResult released = co_await lock->release();
    recorder.record(event(me, EventKind::Released, released.ok ? "" : released.error));
    co_await env.sleep_for(config.think);
  }
  lock.reset();
  for (auto& s : sessions) co_await s->close();
  recorder.record(event(me, EventKind::ClientDone));
}

}  // namespace lockstep
