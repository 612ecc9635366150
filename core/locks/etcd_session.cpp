#include "core/locks/etcd_session.h"

#include <algorithm>
#include <cstdio>
#include <optional>
#include <vector>

#include "core/locks/common.h"

namespace lockstep::locks {

namespace {

constexpr Duration kDefaultTtl = std::chrono::seconds(60);  // concurrency.defaultSessionTTL
constexpr Duration kMinTimeout = std::chrono::seconds(1);   // borges' etcdLock.Lock clamp

bool retryable(Error e) { return e == Error::ConnectionLoss || e == Error::OperationTimeout; }

// A store call's result, or nothing when the Lock's context expired first.
template <class T>
Task<std::optional<T>> or_done(Future<T> call, Future<Unit> done) {
  // (No co_await inside && or ||: GCC 12 miscompiles a co_await in a short-circuit
  // operand.)
  if (done.valid()) {
    size_t first = co_await first_of(done, call);
    if (first == 0) co_return std::nullopt;
  }
  co_return co_await call;
}

// Session::ended as the lost signal: borges returns session.Done(), which closes when
// the client sees the session end (Expired or Closed), and only then. `ended` is the end
// of the session our key was made on (its lease), not of a session renewed since.
Task<void> forward_end(Future<SessionState> ended, Promise<Unit> lost) {
  co_await ended;
  lost.set(Unit{});
}

std::string hex_id(int64_t id) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(id));
  return buf;
}

struct Key {
  std::string path;
  int64_t czxid = 0;
};

// How a step of Lock ended: fine, a store error, or the context's timeout.
struct Outcome {
  bool canceled = false;
  Error err = Error::Ok;
  bool ok() const { return !canceled && err == Error::Ok; }
};

class EtcdSessionLock final : public Lock {
 public:
  explicit EtcdSessionLock(LockContext ctx)
      : env_(*ctx.env), session_(ctx.sessions.at(0)), dir_(ctx.path) {
    if (ctx.options.has("timeout")) timeout_option_ = ctx.options.duration("timeout");
  }

  Task<AcquireResult> acquire(Time deadline) override {
    // The Lock's context: the Timeout (or the caller's deadline) clamped to at least
    // 1 s; a Timeout of 0 means no deadline at all.
    const Time start = env_.now();
    Duration timeout = timeout_option_ ? *timeout_option_ : std::max(deadline - start, kMinTimeout);
    ctx_deadline_.reset();
    done_ = Future<Unit>();
    if (timeout > Duration(0)) {
      ctx_deadline_ = start + std::max(timeout, kMinTimeout);
      done_ = env_.timer_at(*ctx_deadline_);
    }

    // The key is named after the lease it is put with. A session that expired is renewed
    // by its next call, so that call comes first: the key then carries the new lease's id,
    // as a retry of the same Lock would (an old id would leave an orphan key behind).
    if (session_->state() == SessionState::Expired) co_await session_->exists(dir_);
    // m.myKey is set before anything is sent, so a later Unlock deletes it even when
    // this Lock fails.
    const int64_t lease = session_->id();
    key_ = join_path(dir_, hex_id(lease));
    key_state_ = KeyState::Set;

    // The transaction: create our key unless it exists, in which case reuse it (and its
    // create-revision): a second locker of the same session "holds" at once.
    int64_t my_rev = 0;
    for (;;) {
      auto created = co_await or_done(session_->create(key_, "", CreateMode::Ephemeral), done_);
      if (!created) co_return canceled();
      if (created->err == Error::Ok && session_->id() != lease) {
        // The lease expired while the put waited and the put went out on the next
        // session: etcd refuses a put with a dead lease, so the key must not stay.
        co_await session_->remove(key_, -1);
        co_return failed_with(std::string(kEtcdLeaseNotFound));
      }
      if (created->err == Error::Ok) {
        my_rev = created->stat.czxid;
        key_lease_ended_ = session_->ended();
        break;
      }
      if (created->err == Error::NoNode) {
        // etcd has no parents; the lock path is set up like any store's namespace.
        Error made =
            co_await ensure_path(env_, *session_, dir_, ctx_deadline_.value_or(Time::max()));
        if (made != Error::Ok) co_return failed(made);
        continue;
      }
      if (created->err != Error::NodeExists) co_return failed(created->err);
      auto there = co_await or_done(session_->exists(key_), done_);
      if (!there) co_return canceled();
      if (there->err == Error::Ok) {
        my_rev = there->stat.czxid;
        key_lease_ended_ = session_->ended();
        break;
      }
      // Deleted between our create and our read: etcd's transaction is atomic and could
      // not see this, so ask again.
      if (there->err != Error::NoNode) co_return failed(there->err);
    }

    // getOwner: the key with the lowest create-revision under the prefix.
    std::vector<Key> keys;
    Outcome listed = co_await list_keys(keys, false);
    if (listed.canceled) co_return canceled();
    if (listed.err != Error::Ok) co_return failed(listed.err);
    auto lowest = std::min_element(keys.begin(), keys.end(),
                                   [](const Key& a, const Key& b) { return a.czxid < b.czxid; });
    if (lowest == keys.end() || lowest->czxid == my_rev) co_return grant(my_rev);

    // waitDeletes: until no key created before ours is left. Our own key is not looked
    // at again: if the session lost it meanwhile, Lock still succeeds.
    Outcome waited = co_await wait_deletes(my_rev - 1);
    // The context's end is checked once the wait is over, whatever the wait said: a
    // timeout firing just as the wait succeeded deletes our key, and Lock still returns
    // success. Kept.
    const bool expired =
        (done_.valid() && done_.ready()) || (ctx_deadline_ && env_.now() >= *ctx_deadline_);
    if (expired) co_await unlock_key();
    if (waited.canceled) co_return canceled();
    // Any other failure leaves our key behind (until Unlock or the session's end).
    if (waited.err != Error::Ok) co_return failed(waited.err);
    co_return grant(my_rev);
  }

  Task<ReleaseResult> release() override {
    ReleaseResult r;
    if (key_state_ == KeyState::Never) {
      // m.myKey is "" until the first Lock: etcd refuses a delete without a key.
      r.ok = false;
      r.error = "etcdserver: key is not provided";
      co_return r;
    }
    Error err = co_await unlock_key();
    if (err != Error::Ok) {
      r.ok = false;
      r.error = std::string(error_name(err));
    }
    co_return r;
  }

 private:
  enum class KeyState { Never, Set, Reset };

  AcquireResult grant(int64_t my_rev) {
    AcquireResult r;
    r.acquired = true;
    r.lease.node_czxid = static_cast<uint64_t>(my_rev);
    r.lease.lost = lost();
    return r;
  }

  static AcquireResult failed_with(std::string why) {
    AcquireResult r;
    r.error = std::move(why);
    return r;
  }
  static AcquireResult canceled() { return failed_with(std::string(kEtcdCanceled)); }
  static AcquireResult failed(Error e) { return failed_with(std::string(error_name(e))); }

  // A waiter whose lease expired while it waited is granted with this already set.
  Future<Unit> lost() {
    Promise<Unit> lost;
    Future<Unit> out = lost.future();
    env_.spawn(forward_end(key_lease_ended_, std::move(lost)));
    return out;
  }

  // Mutex.Unlock: delete our key (a missing key is no error); afterwards myKey is
  // "\x00", which names no key, so a second Unlock deletes nothing and succeeds.
  Task<Error> unlock_key() {
    if (key_state_ != KeyState::Set) co_return Error::Ok;
    Error err = co_await session_->remove(key_, -1);
    if (err == Error::NoNode) err = Error::Ok;
    if (err == Error::Ok) key_state_ = KeyState::Reset;
    co_return err;
  }

  // The keys under the lock path with their create-revisions: a listing, then one
  // exists per child, all in flight at once. With `retry`, ConnectionLoss is retried
  // until the context ends, as etcd's client retries a read.
  Task<Outcome> list_keys(std::vector<Key>& out, bool retry) {
    for (;;) {
      out.clear();
      Outcome o = co_await list_once(out);
      if (o.canceled || !retry || !retryable(o.err)) co_return o;
      if (done_.valid()) {
        Future<Unit> pause = env_.sleep_for(kRetryPause);
        size_t first = co_await first_of(done_, pause);
        if (first == 0) co_return Outcome{true};
      } else {
        co_await env_.sleep_for(kRetryPause);
      }
    }
  }

  Task<Outcome> list_once(std::vector<Key>& out) {
    auto listed = co_await or_done(session_->children(dir_), done_);
    if (!listed) co_return Outcome{true};
    if (listed->err == Error::NoNode) co_return Outcome{};
    if (listed->err != Error::Ok) co_return Outcome{false, listed->err};
    std::vector<std::string> names = listed->children;
    std::sort(names.begin(), names.end());
    std::vector<Future<ExistsReply>> stats;
    stats.reserve(names.size());
    for (const auto& name : names) stats.push_back(session_->exists(join_path(dir_, name)));
    for (size_t i = 0; i < names.size(); ++i) {
      auto there = co_await or_done(stats[i], done_);
      if (!there) co_return Outcome{true};
      if (there->err == Error::NoNode) continue;
      if (there->err != Error::Ok) co_return Outcome{false, there->err};
      out.push_back({join_path(dir_, names[i]), there->stat.czxid});
    }
    co_return Outcome{};
  }

  Task<Outcome> wait_deletes(int64_t max_rev) {
    for (;;) {
      std::vector<Key> keys;
      Outcome listed = co_await list_keys(keys, true);
      if (!listed.ok()) co_return listed;
      const Key* last = nullptr;
      for (const auto& k : keys)
        if (k.czxid <= max_rev && (!last || k.czxid > last->czxid)) last = &k;
      if (!last) co_return Outcome{};
      Key ahead = *last;
      forget(keys);  // the frame lives while we wait: keep the one key we need
      Outcome gone = co_await wait_delete(ahead.path, ahead.czxid);
      if (!gone.ok()) co_return gone;
    }
  }

  // waitDelete: a watch from the listing's revision, so a deletion in between counts:
  // the key listed at `revision` is gone even if a new key of the same name (a later
  // create revision) stands there now.
  Task<Outcome> wait_delete(std::string path, int64_t revision) {
    for (;;) {
      auto there = co_await or_done(session_->exists(path, true), done_);
      if (!there) co_return Outcome{true};
      if (there->err == Error::NoNode) co_return Outcome{};
      if (there->err == Error::Ok && there->stat.czxid != revision) co_return Outcome{};
      if (retryable(there->err)) {
        if (done_.valid()) {
          Future<Unit> pause = env_.sleep_for(kRetryPause);
          size_t first = co_await first_of(done_, pause);
          if (first == 0) co_return Outcome{true};
        } else {
          co_await env_.sleep_for(kRetryPause);
        }
        continue;
      }
      if (there->err != Error::Ok || !there->watch.valid()) co_return Outcome{false, there->err};
      if (done_.valid()) {
        size_t first = co_await first_of(done_, there->watch);
        if (first == 0) co_return Outcome{true};
      }
      WatchEvent ev = co_await there->watch;
      // etcd's watch outlives the lease; a ZooKeeper watch dies with the session. The
      // next listing, on the renewed session, tells which keys are left.
      if (ev.type == WatchEventType::Deleted || ev.type == WatchEventType::SessionEnded)
        co_return Outcome{};
      // A put on the key: keep watching for its deletion.
    }
  }

  Env& env_;
  std::shared_ptr<Session> session_;
  std::string dir_;
  std::optional<Duration> timeout_option_;
  std::optional<Time> ctx_deadline_;
  Future<Unit> done_;
  std::string key_;
  KeyState key_state_ = KeyState::Never;
  Future<SessionState> key_lease_ended_;
};

}  // namespace

Duration etcd_session_ttl(const OptionValues& options) {
  Duration ttl = options.has("ttl") ? options.duration("ttl") : Duration(0);
  // int(math.Ceil(cfg.TTL.Seconds())), and concurrency.WithTTL ignores a TTL <= 0.
  const int64_t ns_per_s = 1'000'000'000;
  int64_t secs = (ttl.count() + ns_per_s - 1) / ns_per_s;
  if (secs <= 0) return kDefaultTtl;
  return std::chrono::seconds(secs);
}

std::unique_ptr<Lock> make_etcd_session(LockContext ctx) {
  return std::make_unique<EtcdSessionLock>(std::move(ctx));
}

}  // namespace lockstep::locks
