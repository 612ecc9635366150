#include "core/locks/zk_slow.h"

#include "core/locks/common.h"

namespace lockstep::locks {

namespace {

class ZkSlowLock final : public Lock {
 public:
  explicit ZkSlowLock(LockContext ctx)
      : env_(*ctx.env), session_(ctx.sessions.at(0)), path_(ctx.path) {}

  Task<AcquireResult> acquire(Time deadline) override {
    Future<Unit> timeout = env_.timer_at(deadline);
    for (;;) {
      if (env_.now() >= deadline) co_return timed_out();
      CreateReply created = co_await session_->create(path_, "", CreateMode::Ephemeral);
      if (created.err == Error::Ok) {
        AcquireResult r;
        r.acquired = true;
        // No token of its own; the node's czxid is offered for `--fencing czxid`. The
        // node is not sequential, so there is no sequence number.
        r.lease.node_czxid = static_cast<uint64_t>(created.stat.czxid);
        co_return r;
      }
      if (created.err == Error::NoNode) {
        // The library's lock path hangs under a persistent parent it creates itself.
        Error made = co_await ensure_path(env_, *session_, parent_path(path_), deadline);
        if (made != Error::Ok) co_await first_of(env_.sleep_for(kRetryPause), timeout);
        continue;
      }
      if (created.err != Error::NodeExists) {
        // A lost reply may hide a create that did apply: the next create then meets our
        // own node and waits on it until the deadline. That is the library's behaviour.
        co_await first_of(env_.sleep_for(kRetryPause), timeout);
        continue;
      }
      ExistsReply there = co_await session_->exists(path_, true);
      if (there.err == Error::NoNode) continue;  // released meanwhile: race for it now
      if (there.err != Error::Ok || !there.watch.valid()) {
        co_await first_of(env_.sleep_for(kRetryPause), timeout);
        continue;
      }
      co_await first_of(there.watch, timeout);
    }
  }

  Task<ReleaseResult> release() override {
    Error err = co_await session_->remove(path_, -1);
    ReleaseResult r;
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

  Env& env_;
  std::shared_ptr<Session> session_;
  std::string path_;
};

}  // namespace

std::unique_ptr<Lock> make_zk_slow(LockContext ctx) {
  return std::make_unique<ZkSlowLock>(std::move(ctx));
}

}  // namespace lockstep::locks
