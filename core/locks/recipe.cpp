#include "core/locks/recipe.h"

#include <optional>

#include "core/locks/common.h"

namespace lockstep::locks {

namespace {

constexpr std::string_view kProtectedPrefix = "_c_";
constexpr std::string_view kLockName = "lock-";
// A delete that keeps meeting ConnectionLoss is handed to a background task after this
// many tries, as Curator's guaranteed delete does, so the caller is not held up.
constexpr int kDeleteAttempts = 5;
constexpr Duration kGuaranteedDeletePause = std::chrono::milliseconds(500);

// Shared between a RecipeLock and the task watching its session, so the task never
// touches the Lock (which may be gone before it). `held` is the lost signal of the lease
// being held, if any; release clears it, so a later lease never sees an earlier one's
// session trouble.
struct SessionWatch {
  std::shared_ptr<Promise<Unit>> held;
  bool running = false;
};

bool may_have_lost(SessionState s) { return s != SessionState::Connected; }

void signal_lost(SessionWatch& w) {
  if (w.held && !w.held->is_set()) w.held->set(Unit{});
  w.held.reset();
}

// What Curator leaves to a ConnectionStateListener: SUSPENDED means the lock may be lost
// (our session may expire on the server while we cannot hear about it, and then another
// client gets the lock), LOST means it is. One task per session, for every lease on it.
Task<void> watch_session(std::shared_ptr<Session> session, std::shared_ptr<SessionWatch> w) {
  for (;;) {
    SessionEvent ev = co_await session->next_event();
    // An event between this wake-up and the next subscription would go unseen; the
    // state tells what it left behind.
    if (ev == SessionEvent::Suspended || ev == SessionEvent::Expired ||
        ev == SessionEvent::Closed || may_have_lost(session->state()))
      signal_lost(*w);
    if (ev == SessionEvent::Expired || ev == SessionEvent::Closed) {
      w->running = false;
      co_return;
    }
  }
}

// Curator's guaranteed delete: keep trying in the background until the node is gone or
// the session (and with it the ephemeral node) is.
Task<void> delete_in_background(Env& env, std::shared_ptr<Session> session, std::string path) {
  for (;;) {
    co_await env.sleep_for(kGuaranteedDeletePause);
    Error err = co_await session->remove(path, -1);
    if (err != Error::ConnectionLoss && err != Error::OperationTimeout) co_return;
  }
}

// Curator's ConnectionStateManager, for one session: SUSPENDED for a whole session
// timeout of the client's own clock, and the session is given up without a word to the
// server (injectSessionExpiration); a reconnection before that calls it off.
Task<void> give_up_when_suspended(Env& env, std::shared_ptr<Session> session, int64_t id) {
  for (;;) {
    SessionEvent ev = co_await session->next_event();
    if (ev != SessionEvent::Suspended) {
      if (ev == SessionEvent::Connected || ev == SessionEvent::Reconnected) continue;
      co_return;
    }
    Future<SessionEvent> back = session->next_event();
    if (co_await first_of(env.sleep_for(session->timeout()), back) == 0) {
      if (session->id() == id && session->state() == SessionState::Suspended) session->abandon();
      co_return;
    }
    if (back.get() != SessionEvent::Reconnected) co_return;
  }
}

// Curator's background delete of a node found by its GUID that belongs to the previous
// session (ProtectedMode.validateFoundNode hands it to the FailedDeleteManager).
Task<void> delete_now_then_in_background(Env& env, std::shared_ptr<Session> session,
                                         std::string path) {
  Error err = co_await session->remove(path, -1);
  if (err == Error::ConnectionLoss || err == Error::OperationTimeout)
    co_await delete_in_background(env, session, path);
}

class RecipeLock final : public Lock {
 public:
  RecipeLock(LockContext ctx, ReleaseDelete release_delete, CuratorClient client = {},
             Handoff handoff = Handoff::Relist)
      : env_(*ctx.env),
        session_(ctx.sessions.at(0)),
        dir_(ctx.path),
        release_delete_(release_delete),
        client_(client),
        handoff_(handoff) {}

  Task<AcquireResult> acquire(Time deadline) override {
    Future<Unit> timeout = env_.timer_at(deadline);
    keep_managing_connection();
    const std::string guid = env_.random_hex_id();
    const std::string protected_name =
        std::string(kProtectedPrefix) + guid + "-" + std::string(kLockName);
    own_.clear();
    // Once more from the create when the node turned out to be a previous session's.
    for (;;) {
      std::optional<int64_t> czxid;

      // Create, recovering a create whose reply was lost by looking for our GUID.
      bool maybe_created = false;
      while (!czxid) {
        if (env_.now() >= deadline) co_return co_await fail("timeout", maybe_created, guid);
        keep_managing_connection();
        if (maybe_created) {
          ChildrenReply listed = co_await session_->children(dir_);
          if (gone(listed.err)) co_return co_await fail(keeper_error(listed.err, dir_));
          if (listed.err != Error::Ok && listed.err != Error::NoNode) {
            co_await first_of(env_.sleep_for(kRetryPause), timeout);
            continue;
          }
          maybe_created = false;
          for (const auto& name : listed.children)
            if (name.find(guid) != std::string::npos) own_ = join_path(dir_, name);
          if (!own_.empty()) {
            std::optional<Stat> found = co_await node_stat(deadline);
            if (!found) co_return co_await fail("timeout");
            owner_ = found->ephemeral_owner;
            if (client_.node_of_this_session_only && owner_ != session_->id()) {
              drop_node_of_previous_session();
              continue;
            }
            czxid = found->czxid;
            break;
          }
        }
        CreateReply created = co_await session_->create(join_path(dir_, protected_name), "",
                                                        CreateMode::EphemeralSequential);
        if (created.err == Error::Ok) {
          own_ = created.path;
          czxid = created.stat.czxid;
          owner_ = created.stat.ephemeral_owner;
        } else if (created.err == Error::NoNode) {
          Error made = co_await ensure_path(env_, *session_, dir_, deadline);
          if (gone(made)) co_return co_await fail(keeper_error(made, dir_));
        } else if (created.err == Error::ConnectionLoss || created.err == Error::OperationTimeout ||
                   (retries_expired() && created.err == Error::SessionExpired)) {
          maybe_created = true;
          co_await first_of(env_.sleep_for(kRetryPause), timeout);
        } else {
          co_return co_await fail(keeper_error(created.err, dir_));
        }
      }

      // Queue: the lowest sequence number holds; everyone else watches the one just ahead.
      for (;;) {
        if (env_.now() >= deadline) co_return co_await fail("timeout");
        keep_managing_connection();
        ChildrenReply listed = co_await session_->children(dir_);
        if (gone(listed.err)) co_return co_await fail(keeper_error(listed.err, dir_));
        if (listed.err != Error::Ok) {
          co_await first_of(env_.sleep_for(kRetryPause), timeout);
          continue;
        }
        if (client_.node_of_this_session_only && owner_ != session_->id()) {
          // A new session since the create: the node still listed is the previous
          // session's, and goes when the server expires that one.
          drop_node_of_previous_session();
          break;
        }
        const std::string_view mine = base_name(own_);
        const SequentialNode place{.name = mine, .sequence = sequence_number(mine).value_or(0)};
        const QueueLook queue = look_up_queue(listed.children, kLockName, place);
        if (!queue.has_place) {
          // Our node is gone: the session that owned it has ended on the server. Curator's
          // attemptLock takes that NoNodeException as retryable and creates again.
          if (client_.gives_up_suspended_sessions) {
            own_.clear();
            break;
          }
          co_return co_await fail(
              keeper_error(Error::NoNode, "Sequential path not found: " + std::string(mine)));
        }
        if (!queue.ahead) co_return grant(static_cast<uint64_t>(*czxid));
        const std::string predecessor = join_path(dir_, queue.ahead->name);
        // Direct handoff: only the predecessor is below us, and sequence numbers only grow,
        // so once it is gone we are first without listing again. Deeper in the queue we
        // also watch the node two ahead: when it goes the predecessor is most likely the
        // holder now, and listing then (while it holds) finds it alone below us.
        bool alone = false;
        std::string two_ahead;
        if (handoff_ == Handoff::Direct) {
          alone = queue.first->name == queue.ahead->name;
          // The queue as the predecessor sees it: what is ahead of it is two ahead of us.
          if (!alone)
            two_ahead = join_path(
                dir_, look_up_queue(listed.children, kLockName, *queue.ahead).ahead->name);
        }
        // The frame lives while we wait: keep the one name we need, not N of them (N waiters
        // holding N names each is N^2 memory in a herd).
        forget(listed.children);

        // Curator reads the predecessor's data rather than calling exists, so that a node
        // already gone leaves no creation watch behind; either way, gone means list again.
        const Time watch_sent = env_.now();
        GetReply ahead = co_await session_->get(predecessor, true);
        if (ahead.err == Error::NoNode) continue;
        if (gone(ahead.err)) co_return co_await fail(keeper_error(ahead.err, dir_));
        if (ahead.err != Error::Ok || !ahead.watch.valid()) {
          co_await first_of(env_.sleep_for(kRetryPause), timeout);
          continue;
        }
        Future<WatchEvent> further;
        if (!two_ahead.empty()) {
          GetReply two = co_await session_->get(two_ahead, true);
          if (two.err == Error::NoNode) continue;  // gone already: list again now
          if (two.err == Error::Ok) further = two.watch;
        }
        Time proven = watch_sent;  // when we sent the last request the server answered
        for (;;) {
          // The session now under the lock (a new one after a session was given up).
          const size_t woke = co_await first_of(ahead.watch, timeout, session_->ended(), further);
          if (woke == 3) {
            // The node two ahead went: list while the predecessor most likely holds. If it
            // is alone below us now, its watch (still set) is all we wait for.
            further = Future<WatchEvent>();
            const Time sent = env_.now();
            ChildrenReply again = co_await session_->children(dir_);
            if (again.err != Error::Ok) break;  // the loop lists again and decides
            const QueueLook q = look_up_queue(again.children, kLockName, place);
            // The predecessor went while we listed: we are first, and the listing's answer
            // proves our session, as in the loop above.
            if (q.has_place && !q.ahead) co_return grant(static_cast<uint64_t>(*czxid));
            if (!q.has_place || !q.ahead || join_path(dir_, q.ahead->name) != predecessor) break;
            if (q.first->name == q.ahead->name) {
              alone = true;
              proven = sent;
            }
            continue;
          }
          // A notification proves nothing about our session: the server still sends to a
          // client whose requests no longer reach it (a one-way partition), and the client
          // takes what it hears as a sign of life. An answered request does prove it: the
          // server keeps the session at least a timeout past it, and the client library
          // gives up 2/3 of a timeout after what it last heard. So the grant without a
          // second listing holds only while that request is recent; past that, list (and
          // so prove the session) again.
          if (alone && woke == 0 && ahead.watch.get().type == WatchEventType::Deleted &&
              !session_gone_state() && env_.now() - proven < session_->timeout() / 4)
            co_return grant(static_cast<uint64_t>(*czxid));
          break;
        }
      }
    }
  }

  Task<ReleaseResult> release() override {
    ReleaseResult r;
    if (!holding_) {
      r.ok = false;
      r.error = "You do not own the lock: " + dir_;
      co_return r;
    }
    watch_->held.reset();
    holding_ = false;
    std::string path = std::move(own_);
    own_.clear();
    Error err = Error::Ok;
    if (release_delete_ == ReleaseDelete::Guaranteed) {
      err = co_await delete_own(path);
    } else {
      // InterProcessMutex.release as CURATOR-678 has it: `try { releaseLock(path); }
      // finally { threadData.remove(thread); }` under a policy that gives up at once.
      err = co_await session_->remove(path, -1);
      if (release_delete_ == ReleaseDelete::OneTryThenBackground &&
          (err == Error::ConnectionLoss || err == Error::OperationTimeout))
        env_.spawn(delete_in_background(env_, session_, path));
    }
    if (err != Error::Ok && err != Error::NoNode) {
      r.ok = false;
      r.error = keeper_error(err, path);
    }
    co_return r;
  }

 private:
  // Errors after which the lock gives up: the recipe's session is gone. Curator's
  // RetryLoop retries SessionExpired as well, on the handle its client opens next.
  bool retries_expired() const { return client_.gives_up_suspended_sessions; }
  bool gone(Error e) const {
    return retries_expired() && e == Error::SessionExpired ? false : session_gone(e);
  }

  // One ConnectionStateManager for each session the lock runs on.
  void keep_managing_connection() {
    if (!client_.gives_up_suspended_sessions || session_->id() == managed_session_) return;
    managed_session_ = session_->id();
    env_.spawn(give_up_when_suspended(env_, session_, managed_session_));
  }

  void drop_node_of_previous_session() {
    env_.spawn(delete_now_then_in_background(env_, session_, std::move(own_)));
    own_.clear();
  }

  AcquireResult grant(uint64_t token) {
    keep_managing_connection();
    holding_ = true;
    auto lost = std::make_shared<Promise<Unit>>();
    AcquireResult r;
    r.acquired = true;
    r.lease.token = token;
    r.lease.node_czxid = token;
    if (auto seq = sequence_number(base_name(own_)); seq && *seq >= 0)
      r.lease.node_sequence = static_cast<uint64_t>(*seq);
    r.lease.lost = lost->future();
    watch_->held = lost;
    // Trouble that came before the watch task (or between its events) still counts.
    if (may_have_lost(session_->state())) signal_lost(*watch_);
    if (!watch_->running && !session_gone_state()) {
      watch_->running = true;
      env_.spawn(watch_session(session_, watch_));
    }
    return r;
  }

  bool session_gone_state() const {
    SessionState s = session_->state();
    return s == SessionState::Expired || s == SessionState::Closed;
  }

  // The Stat of our node once it was found by GUID (the create's own Stat was lost).
  Task<std::optional<Stat>> node_stat(Time deadline) {
    for (;;) {
      ExistsReply there = co_await session_->exists(own_);
      if (there.err == Error::Ok) co_return there.stat;
      if (there.err != Error::ConnectionLoss && there.err != Error::OperationTimeout)
        co_return std::nullopt;
      if (env_.now() >= deadline) co_return std::nullopt;
      co_await env_.sleep_for(kRetryPause);
    }
  }

  // A waiter that gives up takes its node out of the queue, so nobody waits behind a
  // client that has stopped waiting. A create that may have applied unseen is looked for
  // by GUID first, as Curator's protected mode does.
  Task<AcquireResult> fail(std::string why, bool maybe_created = false, std::string guid = {}) {
    if (own_.empty() && maybe_created) {
      ChildrenReply listed = co_await session_->children(dir_);
      if (listed.err == Error::Ok)
        for (const auto& name : listed.children)
          if (name.find(guid) != std::string::npos) own_ = join_path(dir_, name);
    }
    if (!own_.empty()) {
      std::string path = std::move(own_);
      own_.clear();
      co_await delete_own(path);
    }
    AcquireResult r;
    r.error = std::move(why);
    co_return r;
  }

  Task<Error> delete_own(std::string path) {
    Error err = co_await remove_retrying(env_, *session_, path, kDeleteAttempts);
    if (err == Error::ConnectionLoss || err == Error::OperationTimeout)
      env_.spawn(delete_in_background(env_, session_, path));
    co_return err;
  }

  Env& env_;
  std::shared_ptr<Session> session_;
  std::string dir_;
  std::string own_;    // our lock node while queued or holding
  int64_t owner_ = 0;  // the session that made own_ (its ephemeralOwner)
  bool holding_ = false;
  std::shared_ptr<SessionWatch> watch_ = std::make_shared<SessionWatch>();
  ReleaseDelete release_delete_;
  CuratorClient client_;
  int64_t managed_session_ = 0;
  Handoff handoff_;
};

}  // namespace

std::unique_ptr<Lock> make_recipe(LockContext ctx) {
  return make_recipe(std::move(ctx), Handoff::Relist);
}

std::unique_ptr<Lock> make_recipe(LockContext ctx, Handoff handoff) {
  return std::make_unique<RecipeLock>(std::move(ctx), ReleaseDelete::Guaranteed, CuratorClient{},
                                      handoff);
}

std::unique_ptr<Lock> make_recipe_releasing(LockContext ctx, ReleaseDelete release) {
  return std::make_unique<RecipeLock>(std::move(ctx), release);
}

std::unique_ptr<Lock> make_recipe_on_curator(LockContext ctx, CuratorClient client) {
  return std::make_unique<RecipeLock>(std::move(ctx), ReleaseDelete::Guaranteed, client);
}

}  // namespace lockstep::locks
