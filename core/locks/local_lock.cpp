#include "core/locks/local_lock.h"

#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>

#include "core/shared_registry.h"

namespace lockstep::locks {

namespace {

// borges' localSrv: one lock per id, each a channel holding one token, with a reference
// count of the lockers using it (getLock / freeLock). Guarded by a mutex because live
// clients of one process may run on different event-loop threads; a waiter is woken by
// a post to its own executor, so its Promise is only ever touched on its own thread.
struct LocalService {
  struct Waiter {
    std::weak_ptr<void> alive;  // expires with the waiting coroutine (a crashed client)
    Executor* executor = nullptr;
    Promise<Unit> granted;
    bool handed = false;  // the token is this waiter's (under mu)
  };
  struct Entry {
    bool available = true;  // the token sits in the channel
    std::deque<std::shared_ptr<Waiter>> waiters;
    int refs = 0;
  };

  // freeLock: the last locker to let go removes the entry (under mu).
  void free_lock(const std::string& id) {
    auto it = locks.find(id);
    if (it == locks.end()) return;
    if (--it->second.refs <= 0) locks.erase(it);
  }

  std::mutex mu;
  std::map<std::string, Entry> locks;
};

class LocalLock final : public Lock {
 public:
  explicit LocalLock(LockContext ctx)
      : env_(*ctx.env),
        service_(ctx.shared->get_or_create<LocalService>(kLocalServiceKey)),
        id_(ctx.path) {
    // `ttl` is accepted (the catalogue checks it) and ignored, as the library ignores it.
    if (ctx.options.has("timeout")) timeout_option_ = ctx.options.duration("timeout");
  }

  Task<AcquireResult> acquire(Time deadline) override {
    const bool forever = timeout_option_ && *timeout_option_ == Duration(0);
    const Duration timeout = timeout_option_ ? *timeout_option_ : deadline - env_.now();
    auto alive = std::make_shared<char>(0);  // lives exactly as long as this frame
    std::shared_ptr<LocalService::Waiter> me;
    {
      std::lock_guard<std::mutex> guard(service_->mu);
      LocalService::Entry& entry = service_->locks[id_];
      ++entry.refs;
      if (entry.available && entry.waiters.empty()) {
        entry.available = false;
      } else {
        me = std::make_shared<LocalService::Waiter>();
        me->alive = alive;
        me->executor = &env_.executor();
        entry.waiters.push_back(me);
      }
    }
    if (me) {
      Future<Unit> got = me->granted.future();
      if (forever) {
        co_await got;
      } else {
        // time.After with a negative or zero wait fires at once (only an explicit
        // Timeout of 0 means "forever").
        Future<Unit> timer =
            timeout > Duration(0) ? env_.sleep_for(timeout) : Future<Unit>::ready_with(Unit{});
        size_t first = co_await first_of(got, timer);
        if (first == 1 && !leave_queue(me)) {
          AcquireResult r;
          r.error = std::string(kLocalCanceled);
          co_return r;
        }
      }
    }
    lost_ = std::make_shared<Promise<Unit>>();
    AcquireResult r;
    r.acquired = true;
    r.lease.lost = lost_->future();
    co_return r;
  }

  Task<ReleaseResult> release() override {
    ReleaseResult r;
    if (!lost_) co_return r;  // Unlock without a lock is a no-op
    // close(l.unlock): the only time the lost channel fires.
    if (!lost_->is_set()) lost_->set(Unit{});
    lost_.reset();
    std::shared_ptr<LocalService::Waiter> next;
    {
      std::lock_guard<std::mutex> guard(service_->mu);
      auto it = service_->locks.find(id_);
      if (it != service_->locks.end()) {
        LocalService::Entry& entry = it->second;
        // l.ch <- token: a waiting receiver takes it directly, in arrival order.
        while (!entry.waiters.empty()) {
          auto w = entry.waiters.front();
          entry.waiters.pop_front();
          if (w->alive.expired()) {
            --entry.refs;  // its freeLock will never run
            continue;
          }
          w->handed = true;
          next = w;
          break;
        }
        if (!next) entry.available = true;
        service_->free_lock(id_);
      }
    }
    if (next) {
      Promise<Unit> granted = next->granted;
      next->executor->post([granted]() mutable { granted.set(Unit{}); });
    }
    co_return r;
  }

 private:
  // The timeout fired: leave the queue and freeLock, unless the token was handed to us
  // meanwhile (then the receive won and we hold). Returns true if we hold.
  bool leave_queue(const std::shared_ptr<LocalService::Waiter>& me) {
    std::lock_guard<std::mutex> guard(service_->mu);
    if (me->handed) return true;
    auto it = service_->locks.find(id_);
    if (it != service_->locks.end()) {
      auto& q = it->second.waiters;
      for (auto w = q.begin(); w != q.end(); ++w) {
        if (*w == me) {
          q.erase(w);
          break;
        }
      }
      service_->free_lock(id_);
    }
    return false;
  }

  Env& env_;
  std::shared_ptr<LocalService> service_;
  std::string id_;
  std::optional<Duration> timeout_option_;
  std::shared_ptr<Promise<Unit>> lost_;  // the unlock channel of the lock held, if any
};

}  // namespace

std::unique_ptr<Lock> make_local(LockContext ctx) {
  if (!ctx.shared)
    throw std::logic_error(
        "local: LockContext::shared is not set (the runtime must share one "
        "SharedRegistry among the clients of a process or world)");
  return std::make_unique<LocalLock>(std::move(ctx));
}

}  // namespace lockstep::locks
