#include "core/locks/aiozk_48.h"

#include <algorithm>
#include <optional>

#include "core/locks/common.h"

namespace lockstep::locks {

namespace {

constexpr std::string_view kLabel = "lock";

// The lock's LOST signal: set when the session ends (aiozk's make_contextmanager waits
// for States.LOST).
Task<void> signal_when_ended(std::shared_ptr<Session> session,
                             std::shared_ptr<Promise<Unit>> lost) {
  co_await session->ended();
  if (!lost->is_set()) lost->set(Unit{});
}

// Session.send's ensure_safe_state: a request waits until the session is connected (or
// has ended) before it is sent.
Task<void> ensure_safe_state(Session& session) {
  while (session.state() == SessionState::Suspended || session.state() == SessionState::Connecting)
    co_await session.next_event();
}

class AiozkLock final : public Lock {
 public:
  explicit AiozkLock(LockContext ctx)
      : env_(*ctx.env),
        session_(ctx.sessions.at(0)),
        dir_(ctx.path),
        bug_(ctx.options.boolean("bug")),
        guid_(env_.random_hex_id()) {}

  // Lock.acquire: `while not result: try: result = await wait_in_line(...) except
  // SessionLost: continue`.
  Task<AcquireResult> acquire(Time deadline) override {
    const Duration timeout = deadline - env_.now();
    for (;;) {
      Outcome out = co_await wait_in_line(deadline, timeout);
      if (out == Outcome::SessionLost && env_.now() < deadline) continue;
      co_return result(out);
    }
  }

  Task<ReleaseResult> release() override {
    ReleaseResult r;
    if (owned_.empty()) co_return r;
    std::string path = std::move(owned_);
    owned_.clear();
    co_await ensure_safe_state(*session_);
    Error err = co_await session_->remove(path, -1);
    if (err != Error::Ok && err != Error::NoNode) {
      r.ok = false;
      r.error = keeper_error(err, path);
    }
    co_return r;
  }

 private:
  enum class Outcome { Acquired, TimedOut, SessionLost, Failed };

  Task<Outcome> wait_in_line(Time deadline, Duration timeout) {
    Outcome created = co_await create_unique_znode(deadline);
    if (created != Outcome::Acquired) co_return created;
    for (;;) {
      if (env_.now() >= deadline) {
        if (!co_await delete_unique_znode()) co_return Outcome::Failed;
        co_return Outcome::TimedOut;
      }
      co_await ensure_safe_state(*session_);
      ChildrenReply listed = co_await session_->children(dir_);
      if (listed.err != Error::Ok) {
        error_ = keeper_error(listed.err, dir_);
        if (bug_ || session_gone(listed.err)) co_return Outcome::Failed;  // node untracked
        co_await wait_connected(deadline);
        continue;
      }
      auto siblings = sorted_by_sequence(listed.children);
      std::optional<size_t> position;
      for (size_t i = 0; i < siblings.size(); ++i)
        if (siblings[i].name.find(guid_) != std::string::npos &&
            siblings[i].name.rfind(std::string(kLabel) + "-", 0) == 0)
          position = i;
      if (!position) co_return Outcome::SessionLost;
      if (*position == 0) co_return Outcome::Acquired;

      const std::string blocker = join_path(dir_, siblings[*position - 1].name);
      co_await ensure_safe_state(*session_);
      ExistsReply there = co_await session_->exists(blocker, true);
      bool failed = there.err != Error::Ok && there.err != Error::NoNode;
      if (!failed && there.err == Error::Ok && there.watch.valid()) {
        size_t first = co_await first_of(there.watch, env_.sleep_for(timeout));
        failed = first == 1;  // asyncio.wait_for(unblocked, timeout) timed out
      }
      if (!failed) continue;
      if (session_gone(there.err)) {
        error_ = keeper_error(there.err, blocker);
        co_return Outcome::Failed;
      }
      // wait_on_sibling raised TimeoutError.
      if (bug_) {
        if (!co_await delete_unique_znode()) co_return Outcome::Failed;
      } else {
        co_await wait_connected(deadline);
      }
    }
  }

  Task<Outcome> create_unique_znode(Time deadline) {
    const std::string path = join_path(dir_, std::string(kLabel) + "-" + guid_ + "-");
    co_await ensure_safe_state(*session_);
    CreateReply c = co_await session_->create(path, "", CreateMode::EphemeralSequential);
    if (c.err == Error::NoNode) {
      Error made = co_await ensure_path(env_, *session_, dir_, deadline);
      if (made != Error::Ok) {
        error_ = keeper_error(made, dir_);
        co_return Outcome::Failed;
      }
      co_await ensure_safe_state(*session_);
      c = co_await session_->create(path, "", CreateMode::EphemeralSequential);
    }
    if (c.err != Error::Ok) {
      env_.spawn(delete_garbage_znodes(env_, session_, dir_, guid_, owned_));
      error_ = keeper_error(c.err, path);
      co_return Outcome::Failed;
    }
    owned_ = c.path;
    czxid_ = c.stat.czxid;
    co_return Outcome::Acquired;
  }

  // True if the node is gone; false (with error_) if the delete raised.
  Task<bool> delete_unique_znode() {
    if (owned_.empty()) co_return true;
    co_await ensure_safe_state(*session_);
    Error err = co_await session_->remove(owned_, -1);
    if (err != Error::Ok && err != Error::NoNode) {
      error_ = keeper_error(err, owned_);
      co_return false;
    }
    owned_.clear();
    co_return true;
  }

  // `await self.client.session.state.wait_for(States.CONNECTED)`, bounded by the
  // deadline (the loop then times out) and ended by the session's end.
  Task<void> wait_connected(Time deadline) {
    Future<Unit> limit = env_.timer_at(deadline);
    while (session_->state() == SessionState::Suspended ||
           session_->state() == SessionState::Connecting) {
      size_t first = co_await first_of(session_->next_event(), limit);
      if (first == 1) co_return;
    }
  }

  // After a failed create: once connected, delete our guid's nodes other than the one we
  // own (a create whose reply was lost may have applied).
  static Task<void> delete_garbage_znodes(Env& env, std::shared_ptr<Session> session,
                                          std::string dir, std::string guid, std::string owned) {
    for (int attempt = 0; attempt < 100; ++attempt) {
      const SessionState state = session->state();
      if (state == SessionState::Expired || state == SessionState::Closed) co_return;
      co_await env.sleep_for(kRetryPause * (1 << std::min(attempt, 6)));
      co_await ensure_safe_state(*session);
      ChildrenReply listed = co_await session->children(dir);
      if (listed.err != Error::Ok) continue;
      for (const auto& name : listed.children) {
        const std::string path = join_path(dir, name);
        if (name.find(guid) != std::string::npos && path != owned)
          co_await session->remove(path, -1);
      }
      co_return;
    }
  }

  AcquireResult result(Outcome out) {
    AcquireResult r;
    if (out == Outcome::TimedOut) r.error = "TimeoutError";
    if (out == Outcome::SessionLost) r.error = "SessionLost";
    if (out == Outcome::Failed) r.error = error_;
    if (out != Outcome::Acquired) return r;
    r.acquired = true;
    r.lease.node_czxid = static_cast<uint64_t>(czxid_);
    if (auto seq = sequence_number(base_name(owned_)); seq && *seq >= 0)
      r.lease.node_sequence = static_cast<uint64_t>(*seq);
    auto lost = std::make_shared<Promise<Unit>>();
    r.lease.lost = lost->future();
    env_.spawn(signal_when_ended(session_, lost));
    return r;
  }

  Env& env_;
  std::shared_ptr<Session> session_;
  std::string dir_;
  bool bug_;
  std::string guid_;   // SequentialRecipe.guid: one per Lock object
  std::string owned_;  // owned_paths["lock"]
  int64_t czxid_ = 0;
  std::string error_;
};

}  // namespace

std::unique_ptr<Lock> make_aiozk_48(LockContext ctx) {
  return std::make_unique<AiozkLock>(std::move(ctx));
}

}  // namespace lockstep::locks
