#include "core/locks/zk_fast.h"

#include <optional>

#include "core/locks/common.h"

namespace lockstep::locks {

namespace {

constexpr std::string_view kPrefix = "request-";

class ZkFastLock final : public Lock {
 public:
  ZkFastLock(LockContext ctx, bool true_predecessor)
      : env_(*ctx.env),
        session_(ctx.sessions.at(0)),
        dir_(ctx.path),
        true_predecessor_(true_predecessor) {}

  Task<AcquireResult> acquire(Time deadline) override {
    Future<Unit> timeout = env_.timer_at(deadline);
    own_.clear();
    int64_t n = 0;
    for (;;) {
      if (env_.now() >= deadline) co_return timed_out();
      CreateReply created =
          co_await session_->create(join_path(dir_, kPrefix), "", CreateMode::EphemeralSequential);
      if (created.err == Error::Ok) {
        own_ = created.path;
        own_czxid_ = created.stat.czxid;
        n = sequence_number(created.path).value_or(0);
        break;
      }
      if (created.err == Error::NoNode) {
        Error made = co_await ensure_path(env_, *session_, dir_, deadline);
        if (made == Error::Ok) continue;
      }
      // A lost reply may hide a create that did apply; that orphan request node then
      // queues ahead of everyone until this session ends. The document has no defence.
      co_await first_of(env_.sleep_for(kRetryPause), timeout);
    }

    for (;;) {
      if (env_.now() >= deadline) co_return co_await give_up();
      ChildrenReply listed = co_await session_->children(dir_);
      if (listed.err != Error::Ok) {
        co_await first_of(env_.sleep_for(kRetryPause), timeout);
        continue;
      }
      // Nodes numbered below ours, wherever their name sorts, come before us.
      const QueueLook queue = look_up_queue(listed.children, kPrefix, {.name = "", .sequence = n});
      if (queue.first && queue.first->name == base_name(own_)) {
        AcquireResult r;
        r.acquired = true;
        // No token of its own; the node's identity is offered for `--fencing`.
        r.lease.node_czxid = static_cast<uint64_t>(own_czxid_);
        if (n >= 0) r.lease.node_sequence = static_cast<uint64_t>(n);
        co_return r;
      }

      std::string ahead;
      if (true_predecessor_) {
        // Nobody ahead but not first either: our own node is gone (the session lost
        // it). List again until the deadline, as the loop has nothing else to do.
        if (!queue.ahead) {
          co_await first_of(env_.sleep_for(kRetryPause), timeout);
          continue;
        }
        ahead = join_path(dir_, queue.ahead->name);
      } else {
        ahead = join_path(dir_, std::string(kPrefix) + sequence_suffix(n - 1));
      }

      // The frame lives while we wait: keep the one name we need (see forget()).
      forget(listed.children);
      ExistsReply there = co_await session_->exists(ahead, true);
      if (there.err == Error::NoNode && true_predecessor_) continue;
      if ((there.err != Error::Ok && there.err != Error::NoNode) || !there.watch.valid()) {
        co_await first_of(env_.sleep_for(kRetryPause), timeout);
        continue;
      }
      co_await first_of(there.watch, timeout);
    }
  }

  Task<ReleaseResult> release() override {
    ReleaseResult r;
    if (own_.empty()) co_return r;
    Error err = co_await session_->remove(own_, -1);
    own_.clear();
    if (err != Error::Ok) {
      r.ok = false;
      r.error = std::string(error_name(err));
    }
    co_return r;
  }

 private:
  static AcquireResult timed_out() {
    AcquireResult r;
    r.error = "timeout";
    return r;
  }

  // The deadline passed while queued: take our request out of the queue.
  Task<AcquireResult> give_up() {
    if (!own_.empty()) co_await session_->remove(own_, -1);
    own_.clear();
    co_return timed_out();
  }

  Env& env_;
  std::shared_ptr<Session> session_;
  std::string dir_;
  bool true_predecessor_;
  std::string own_;  // our request node while queued or holding
  int64_t own_czxid_ = 0;
};

}  // namespace

std::unique_ptr<Lock> make_zk_fast(LockContext ctx) {
  return std::make_unique<ZkFastLock>(std::move(ctx), false);
}

std::unique_ptr<Lock> make_zk_fast_pred(LockContext ctx) {
  return std::make_unique<ZkFastLock>(std::move(ctx), true);
}

}  // namespace lockstep::locks
