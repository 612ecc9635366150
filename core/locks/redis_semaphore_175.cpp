#include "core/locks/redis_semaphore_175.h"

#include <optional>

#include "core/locks/common.h"

namespace lockstep::locks {

namespace {

constexpr std::string_view kIncarnation = "key-";
constexpr Duration kRetryInterval = std::chrono::milliseconds(10);  // retryInterval
constexpr Duration kAcquireTimeout = std::chrono::seconds(10);      // acquireTimeout
constexpr double kRefreshIntervalCoefficient = 0.8;                 // REFRESH_INTERVAL_COEF

// The key's current incarnation (its lowest node), if any.
struct KeyValue {
  Error err = Error::Ok;
  std::optional<std::string> node;
  std::string value;
  int32_t version = -1;
};

Task<KeyValue> read_key(Session& session, const std::string& key) {
  KeyValue out;
  ChildrenReply kids = co_await session.children(key, false);
  if (kids.err == Error::NoNode) co_return out;
  if (kids.err != Error::Ok) {
    out.err = kids.err;
    co_return out;
  }
  auto sorted = sorted_by_sequence(kids.children, kIncarnation);
  if (sorted.empty()) co_return out;
  const std::string node = join_path(key, sorted.front().name);
  GetReply got = co_await session.get(node, false);
  if (got.err == Error::NoNode) co_return out;  // expired between the two reads
  if (got.err != Error::Ok) {
    out.err = got.err;
    co_return out;
  }
  out.node = node;
  out.value = got.data;
  out.version = got.stat.version;
  co_return out;
}

// SET key value PX ttl NX: our incarnation, kept only if it is the key's lowest. The
// created node, or nothing when the key was taken (or the call failed).
struct SetResult {
  std::optional<std::string> node;
  int64_t czxid = 0;
};

Task<SetResult> set_nx(Env& env, Session& session, const std::string& key, const std::string& value,
                       Duration ttl) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    Future<CreateReply> creating = session.create(join_path(key, kIncarnation), value,
                                                  CreateMode::PersistentSequentialWithTtl, ttl);
    Future<ChildrenReply> listing = session.children(key, false);
    CreateReply made = co_await creating;
    ChildrenReply kids = co_await listing;
    if (made.err == Error::NoNode && attempt == 0) {
      if (co_await ensure_path(env, session, key, env.now() + ttl) != Error::Ok)
        co_return SetResult{};
      continue;
    }
    if (made.err != Error::Ok) co_return SetResult{};
    if (kids.err == Error::Ok) {
      auto sorted = sorted_by_sequence(kids.children, kIncarnation);
      if (!sorted.empty() && join_path(key, sorted.front().name) == made.path)
        co_return SetResult{.node = made.path, .czxid = made.stat.czxid};
    }
    co_await session.remove(made.path, -1);  // NX said no: ours must not stay
    co_return SetResult{};
  }
  co_return SetResult{};
}

// What the mutex and its refresh timer share; the timer task outlives neither badly: it
// reads only this.
struct Held {
  bool active = true;  // until release or loss stops the timer
  bool refreshing = false;
  std::shared_ptr<Promise<Unit>> lost;
  std::shared_ptr<Renewals> renewals;  // each refresh the script answered 1
};

// What one run of the refresh script came to.
enum class Refresh {
  Done,    // the script returned 1: the library goes on as the holder
  Lost,    // it returned 0: onLockLost
  Failed,  // the call was rejected: the library logs it and the timer goes on
};

class RedisMutex final : public Lock {
 public:
  explicit RedisMutex(LockContext ctx)
      : env_(*ctx.env),
        session_(ctx.sessions.at(0)),
        key_(ctx.path),
        bug_(ctx.options.boolean("bug")),
        lock_timeout_(ctx.options.duration("lock_timeout")),
        refresh_interval_(
            ctx.options.has("refresh_interval")
                ? ctx.options.duration("refresh_interval")
                : Duration(static_cast<int64_t>(static_cast<double>(lock_timeout_.count()) *
                                                kRefreshIntervalCoefficient))),
        identifier_(env_.random_hex_id()) {}

  Task<AcquireResult> acquire(Time deadline) override {
    const Time end = std::min(deadline, env_.now() + kAcquireTimeout);
    AcquireResult r;
    while (env_.now() < end) {
      SetResult got = co_await set_nx(env_, *session_, key_, identifier_, lock_timeout_);
      if (got.node) {
        r.acquired = true;
        r.lease.node_czxid = static_cast<uint64_t>(got.czxid);
        held_ = std::make_shared<Held>();
        held_->lost = std::make_shared<Promise<Unit>>();
        r.lease.lost = held_->lost->future();
        held_->renewals = std::make_shared<Renewals>();
        r.lease.renewals = held_->renewals;
        if (refresh_interval_ > Duration(0))
          env_.spawn(refresh_timer(env_, session_, key_, identifier_, lock_timeout_,
                                   refresh_interval_, bug_, held_));
        co_return r;
      }
      co_await env_.sleep_for(kRetryInterval);
    }
    r.error = "Acquire mutex " + key_ + " timeout";
    co_return r;
  }

  Task<ReleaseResult> release() override {
    ReleaseResult r;
    if (!held_) co_return r;
    held_->active = false;  // stopRefresh
    held_.reset();
    // delIfEqual: delete the key if it still holds our identifier.
    KeyValue now = co_await read_key(*session_, key_);
    if (now.err == Error::Ok && now.node && now.value == identifier_) {
      Error err = co_await session_->remove(*now.node, now.version);
      if (err != Error::Ok && err != Error::NoNode && err != Error::BadVersion) {
        r.ok = false;
        r.error = keeper_error(err, *now.node);
      }
    } else if (now.err != Error::Ok) {
      r.ok = false;
      r.error = keeper_error(now.err, key_);
    }
    co_return r;
  }

 private:
  // setInterval(_processRefresh, refreshInterval): a tick while a refresh is still under
  // way is skipped.
  static Task<void> refresh_timer(Env& env, std::shared_ptr<Session> session, std::string key,
                                  std::string identifier, Duration lock_timeout, Duration interval,
                                  bool bug, std::shared_ptr<Held> held) {
    for (;;) {
      co_await env.sleep_for(interval);
      if (!held->active) co_return;
      if (held->refreshing) continue;
      held->refreshing = true;
      env.spawn(refresh(env, session, key, identifier, lock_timeout, bug, held));
    }
  }

  static Task<void> refresh(Env& env, std::shared_ptr<Session> session, std::string key,
                            std::string identifier, Duration lock_timeout, bool bug,
                            std::shared_ptr<Held> held) {
    const uint64_t id = held->renewals->started();
    const Refresh got = co_await expire_if_equal(env, *session, key, identifier, lock_timeout, bug);
    held->refreshing = false;
    if (got == Refresh::Done) held->renewals->succeeded(id);
    if (got != Refresh::Lost || !held->active) co_return;
    // _acquired = false; stopRefresh(); onLockLost(new LostLockError(...)).
    held->active = false;
    if (!held->lost->is_set()) held->lost->set(Unit{});
  }

  // The refresh script: `if redis.call('get', key) == identifier then pexpire ...; return
  // 1 end; return 0`, and before the fix an `elseif` that sets a vanished key again.
  static Task<Refresh> expire_if_equal(Env& env, Session& session, std::string key,
                                       std::string identifier, Duration lock_timeout, bool bug) {
    KeyValue now = co_await read_key(session, key);
    if (now.err != Error::Ok) co_return Refresh::Failed;
    if (now.node && now.value == identifier) {
      SetReply set = co_await session.set(*now.node, identifier, now.version);
      if (set.err == Error::Ok) co_return Refresh::Done;
      co_return set.err == Error::NoNode || set.err == Error::BadVersion ? Refresh::Lost
                                                                         : Refresh::Failed;
    }
    if (!now.node && bug) {
      // `elseif value == false then set key identifier; pexpire key lockTimeout; return 1`
      SetResult again = co_await set_nx(env, session, key, identifier, lock_timeout);
      co_return again.node ? Refresh::Done : Refresh::Lost;
    }
    co_return Refresh::Lost;
  }

  Env& env_;
  std::shared_ptr<Session> session_;
  std::string key_;
  bool bug_;
  Duration lock_timeout_;
  Duration refresh_interval_;
  std::string identifier_;  // crypto.randomUUID(), one per Mutex
  std::shared_ptr<Held> held_;
};

}  // namespace

std::unique_ptr<Lock> make_redis_semaphore_175(LockContext ctx) {
  return std::make_unique<RedisMutex>(std::move(ctx));
}

}  // namespace lockstep::locks
