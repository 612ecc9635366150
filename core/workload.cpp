#include "core/workload.h"

#include <memory>

#include "core/renewing_session.h"
#include "core/resource.h"

namespace lockstep {

std::optional<FencingSource> parse_fencing_source(std::string_view name) {
  if (name.empty()) return FencingSource::Own;
  if (name == "czxid") return FencingSource::Czxid;
  if (name == "sequence") return FencingSource::Sequence;
  if (name == "none") return FencingSource::None;
  return std::nullopt;
}

std::string_view fencing_source_name(FencingSource s) {
  switch (s) {
    case FencingSource::Own:
      return "";
    case FencingSource::Czxid:
      return "czxid";
    case FencingSource::Sequence:
      return "sequence";
    case FencingSource::None:
      return "none";
  }
  return "";
}

std::optional<uint64_t> fencing_token(const Lease& lease, FencingSource source) {
  switch (source) {
    case FencingSource::Own:
      return lease.token;
    case FencingSource::Czxid:
      return lease.node_czxid;
    case FencingSource::Sequence:
      return lease.node_sequence;
    case FencingSource::None:
      return std::nullopt;
  }
  return std::nullopt;
}

namespace {

HistoryEvent event(int client, EventKind kind, std::string detail = {}) {
  HistoryEvent e;
  e.client = client;
  e.kind = kind;
  e.detail = std::move(detail);
  return e;
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

// A session for the lock, its events recorded under `label`.
Task<std::shared_ptr<Session>> open_recorded_session(Env& env, Store& store, Duration timeout,
                                                     Recorder& recorder, std::string label) {
  std::shared_ptr<Session> session = co_await open_session(env, store, timeout, recorder);
  env.spawn(record_session_events(session, recorder, env.client_index(), std::move(label)));
  co_return session;
}

bool ended(const Session& s) {
  return s.state() == SessionState::Expired || s.state() == SessionState::Closed;
}

// Waits until the local clock reads `t`; true if the lease was signalled lost first (or
// already was). An invalid `lost` never fires.
Task<bool> hold_until(Env& env, Time t, Future<Unit> lost) {
  if (lost.valid() && lost.ready()) co_return true;
  Future<Unit> done = env.timer_at(t);
  if (!lost.valid()) {
    co_await done;
    co_return false;
  }
  co_return co_await first_of(done, lost) == 1;
}

// The critical section with the resource: read the counter, hold for half the hold time,
// write counter + 1, hold the rest. The gap between read and write is what makes a
// second holder's increment able to interleave (and be lost) when the lock fails. A
// client that is told its lease is lost stops there and writes nothing, as an
// application heeding the signal would; the stale writes the checkers look for come from
// clients that have not been told (yet). Returns true if the lease was lost.
// Records LostObserved when the lease's lost signal comes before the critical section ends.
Task<void> observe_loss(Recorder& recorder, int me, Future<Unit> lost, Future<Unit> section_over,
                        std::shared_ptr<bool> observed) {
  size_t first = co_await first_of(lost, section_over);
  if (first == 0 && !section_over.ready() && !*observed) {
    *observed = true;
    recorder.record(event(me, EventKind::LostObserved));
  }
}

Task<bool> critical_section(Env& env, Recorder& recorder, const WorkloadConfig& config,
                            FencedResource& resource, const Lease& lease,
                            std::optional<uint64_t> token) {
  const int me = env.client_index();
  const Time start = env.now();
  if (lease.lost.valid() && lease.lost.ready()) co_return true;

  ResourceRead got = co_await resource.read(token);
  HistoryEvent read = event(me, EventKind::ResourceRead);
  read.token = token;
  if (got.err == Error::Ok) {
    read.value = got.value;
    if (got.stale)
      read.detail = "stale: token " + std::to_string(token.value_or(0)) + " < max_token " +
                    std::to_string(got.max_token);
  } else {
    read.detail = "failed: " + std::string(error_name(got.err));
  }
  recorder.record(read);

  if (co_await hold_until(env, start + config.hold / 2, lease.lost)) co_return true;
  if (got.err == Error::Ok) {
    const std::optional<Time> issued = recorder.stamp();
    ResourceWrite put = co_await resource.write(got.value + 1, token);
    HistoryEvent write = event(me, EventKind::ResourceWrite, put.detail());
    write.issued = issued;
    write.token = token;
    write.value = put.value;
    write.outcome = put.outcome;
    if (put.accepted()) write.zxid = put.mzxid;
    recorder.record(write);
  }
  co_return co_await hold_until(env, start + config.hold, lease.lost);
}

}  // namespace

namespace {

// A session event reaches only the waits begun before it. Two in one instant (a resumed
// process's client library gives up its connection and learns of the expiry at once), or
// one before this task first waits, would be missed: the session's state tells what was,
// and the event that leads there is recorded.
SessionState state_told_by(SessionEvent e) {
  switch (e) {
    case SessionEvent::Connected:
    case SessionEvent::Reconnected:
      return SessionState::Connected;
    case SessionEvent::Suspended:
      return SessionState::Suspended;
    case SessionEvent::Expired:
      return SessionState::Expired;
    case SessionEvent::Closed:
      return SessionState::Closed;
  }
  return SessionState::Connected;
}

SessionEvent event_into(SessionState s) {
  switch (s) {
    case SessionState::Connected:
      return SessionEvent::Reconnected;
    case SessionState::Connecting:
    case SessionState::Suspended:
      return SessionEvent::Suspended;
    case SessionState::Expired:
      return SessionEvent::Expired;
    case SessionState::Closed:
      return SessionEvent::Closed;
  }
  return SessionEvent::Suspended;
}

}  // namespace

// Records every session event until the session ends, so the history shows what the
// client library told the process.
// `label` tells the sessions of one client apart: "" for the lock's first session,
// " store=N" for the others, " resource" for a separate resource session.
Task<void> record_session_events(std::shared_ptr<Session> session, Recorder& recorder, int client,
                                 std::string label) {
  SessionState told = SessionState::Connected;  // opened sessions start connected
  for (;;) {
    const SessionState now =
        session->state() == SessionState::Connecting ? SessionState::Suspended : session->state();
    SessionEvent ev;
    if (now != told) {
      ev = event_into(now);
    } else {
      ev = co_await session->next_event();  // not inside ?: (GCC 12 mishandles co_await there)
    }
    told = state_told_by(ev);
    std::string detail(session_event_name(ev));
    detail += label;
    recorder.record(event(client, EventKind::SessionChange, detail));
    if (ev == SessionEvent::Expired || ev == SessionEvent::Closed) co_return;
  }
}

Task<void> run_client(Env& env, Recorder& recorder, WorkloadConfig config) {
  const int me = env.client_index();
  recorder.record(event(me, EventKind::ClientStart));

  std::vector<std::shared_ptr<Session>> sessions;
  std::unique_ptr<Lock> lock;
  std::shared_ptr<Session> resource_session;  // only for a separate resource store
  std::unique_ptr<FencedResource> resource;
  const std::string resource_node = resource_path(config.lock_path);
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
      ctx.shared = config.shared;
      for (size_t i = 0; i < config.stores.size(); ++i) {
        const std::string label = i > 0 ? " store=" + std::to_string(i) : std::string();
        Store& store = *config.stores[i];
        std::shared_ptr<Session> session =
            co_await open_recorded_session(env, store, config.session_timeout, recorder, label);
        if (config.algorithm->sessionless) {
          const Duration timeout = config.session_timeout;
          session = std::make_shared<RenewingSession>(
              env, std::move(session), [&env, &store, timeout, &recorder, label] {
                return open_recorded_session(env, store, timeout, recorder, label);
              });
        }
        ctx.sessions.push_back(std::move(session));
      }
      sessions = ctx.sessions;
      lock = config.algorithm->make(std::move(ctx));
      if (config.resource.enabled && !config.resource.separate_store)
        resource = std::make_unique<FencedResource>(env, sessions.at(0), resource_node,
                                                    config.resource.fenced);
    }
    // A separate resource session lives on its own: renewed only when it has ended.
    if (config.resource.enabled && config.resource.separate_store &&
        (!resource_session || ended(*resource_session))) {
      resource.reset();
      if (resource_session) co_await resource_session->close();
      Store& store = config.resource_store ? *config.resource_store : *config.stores.at(0);
      const Duration timeout = config.resource_session_timeout > Duration(0)
                                   ? config.resource_session_timeout
                                   : config.session_timeout;
      resource_session = co_await open_recorded_session(env, store, timeout, recorder, " resource");
      resource = std::make_unique<FencedResource>(env, resource_session, resource_node,
                                                  config.resource.fenced);
    }

    recorder.record(event(me, EventKind::AcquireStart));
    AcquireResult got = co_await lock->acquire(env.now() + config.acquire_timeout);
    if (!got.acquired) {
      recorder.record(event(me, EventKind::AcquireFailed, got.error));
      co_await env.sleep_for(config.think);
      continue;
    }
    // A client that never looks at the lost signal holds on regardless.
    if (!config.heed_lost) got.lease.lost = Future<Unit>();
    // The token the history (and the resource) sees is the one the client fences with.
    const std::optional<uint64_t> token = fencing_token(got.lease, config.fencing);
    HistoryEvent acquired = event(me, EventKind::Acquired);
    acquired.token = token;
    recorder.record(acquired);
    // What the lock says of its renewals, while the client believes it holds.
    if (got.lease.renewals)
      got.lease.renewals->listen([&recorder, me](bool succeeded, uint64_t id) {
        HistoryEvent e = event(me, succeeded ? EventKind::Renewed : EventKind::RenewStart);
        e.value = static_cast<int64_t>(id);
        recorder.record(e);
      });

    // The client stops believing the moment the algorithm says the lock is lost, even
    // while a request of its critical section is still waiting for an answer.
    Promise<Unit> section_over;
    auto observed = std::make_shared<bool>(false);
    if (got.lease.lost.valid())
      env.spawn(observe_loss(recorder, me, got.lease.lost, section_over.future(), observed));
    if (resource) {
      co_await critical_section(env, recorder, config, *resource, got.lease, token);
    } else {
      Future<Unit> hold_done = env.sleep_for(config.hold);
      if (got.lease.lost.valid())
        co_await first_of(hold_done, got.lease.lost);
      else
        co_await hold_done;
    }
    // The section may have ended on the signal itself, before the observer ran.
    if (got.lease.lost.valid() && got.lease.lost.ready() && !*observed) {
      *observed = true;
      recorder.record(event(me, EventKind::LostObserved));
    }
    section_over.set(Unit{});
    if (got.lease.renewals) got.lease.renewals->listen(nullptr);

    recorder.record(event(me, EventKind::ReleaseStart));
    ReleaseResult released = co_await lock->release();
    recorder.record(event(me, EventKind::Released, released.ok ? "" : released.error));
    co_await env.sleep_for(config.think);
  }
  lock.reset();
  resource.reset();
  for (auto& s : sessions) co_await s->close();
  if (resource_session) co_await resource_session->close();
  recorder.record(event(me, EventKind::ClientDone));
}

}  // namespace lockstep
