#include "core/locks/lease_fenced.h"

#include <charconv>
#include <vector>

#include "core/locks/common.h"

namespace lockstep::locks {

namespace {

// acquire()'s pause between two TryLocks (the library leaves waiting to the caller).
constexpr Duration kTryLockPause = std::chrono::milliseconds(50);
// "The epoch" in row values (milliseconds): far before any clock reading of a run, as
// the Unix epoch is before any wall clock the library runs on.
constexpr int64_t kEpochMs = -4'000'000'000'000'000;
constexpr Time kEpoch = Time::min() / 2;  // the same, for the local lease
const std::string kConditionFailed =
    std::string(kLeaseTaken) + ": ConditionalCheckFailedException: The conditional request failed";
constexpr std::string_view kCallTimedOut = "context deadline exceeded";

// time.Time.UnixMilli: milliseconds, rounded down.
int64_t unix_milli(Time t) {
  const int64_t ns = t.count();
  const int64_t per_ms = 1'000'000;
  return ns >= 0 ? ns / per_ms : -((-ns - 1) / per_ms) - 1;
}

struct Row {
  std::string owner;
  std::optional<int64_t> until_ms;
  std::optional<uint64_t> token;
};

std::string encode(const std::string& owner, int64_t until_ms, std::optional<uint64_t> token) {
  std::string out = "{\"owner\":\"";
  for (char c : owner) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out += "\",\"until\":" + std::to_string(until_ms);
  if (token) out += ",\"token\":" + std::to_string(*token);
  return out + "}";
}

template <class Int>
std::optional<Int> number_after(std::string_view data, std::string_view key) {
  size_t at = data.find(key);
  if (at == std::string_view::npos) return std::nullopt;
  const char* first = data.data() + at + key.size();
  Int v{};
  auto [end, ec] = std::from_chars(first, data.data() + data.size(), v);
  if (ec != std::errc() || end == first) return std::nullopt;
  return v;
}

Row decode(std::string_view data) {
  Row row;
  constexpr std::string_view owner_key = "\"owner\":\"";
  size_t at = data.find(owner_key);
  if (at != std::string_view::npos) {
    for (size_t i = at + owner_key.size(); i < data.size() && data[i] != '"'; ++i) {
      if (data[i] == '\\' && i + 1 < data.size()) ++i;
      row.owner.push_back(data[i]);
    }
  }
  row.until_ms = number_after<int64_t>(data, "\"until\":");
  row.token = number_after<uint64_t>(data, "\"token\":");
  return row;
}

}  // namespace

// The library's internal lock object: one per grant. (A named namespace: State, which
// has linkage, holds it.)
namespace lease_fenced_detail {
struct LockObj {
  bool initialized = false;
  bool unlocked = false;
  Time lease_until{0};
  std::optional<uint64_t> token;
  // updateMu: a heartbeat skips while it is held, an unlock waits for it.
  bool updating = false;
  std::vector<Promise<Unit>> update_waiters;
  uint64_t generation = 0;  // bumped by each accepted Update; stale timers compare it
  bool warn_registered = false;
  int warnings = 0;
  Promise<Unit> first_warning;
  Promise<Unit> lost;  // IsExpired became true
};
}  // namespace lease_fenced_detail

using lease_fenced_detail::LockObj;

struct LeaseFencedLock::State {
  Env* env = nullptr;
  std::shared_ptr<Session> session;
  std::string path;
  Settings s;
  bool closed = false;
  std::shared_ptr<LockObj> active;  // the Locker's activeLocks entry for this lock id
  std::shared_ptr<LockObj> last;    // the Lock object last handed to the caller
};

namespace {

using State = LeaseFencedLock::State;

bool expired_now(const State& st, const LockObj& obj) {
  return obj.initialized && (obj.unlocked || st.env->now() > obj.lease_until);
}

void signal_lost(LockObj& obj) {
  if (!obj.lost.is_set()) obj.lost.set(Unit{});
}

// The lost signal at the local lease end: IsExpired turns true once the clock is past it.
Task<void> expire_at(std::shared_ptr<State> st, std::shared_ptr<LockObj> obj, uint64_t gen,
                     Time until) {
  co_await st->env->timer_at(until + Duration(1));
  if (obj->generation == gen && expired_now(*st, *obj)) signal_lost(*obj);
}

// The WarnChan's message at the registered warn time, unless a newer Update moved it.
Task<void> warn_at(std::shared_ptr<State> st, std::shared_ptr<LockObj> obj, uint64_t gen,
                   Time when) {
  co_await st->env->timer_at(when);
  if (obj->generation != gen || !obj->warn_registered) co_return;
  ++obj->warnings;
  if (!obj->first_warning.is_set()) obj->first_warning.set(Unit{});
}

// lock.Update: refused (false) once the lock is expired with its current values.
bool update(const std::shared_ptr<State>& st, const std::shared_ptr<LockObj>& obj, Time until,
            Time warn_time, bool unlocked) {
  if (expired_now(*st, *obj)) return false;
  obj->lease_until = until;
  obj->unlocked = unlocked;
  ++obj->generation;
  if (!expired_now(*st, *obj)) {
    obj->warn_registered = true;
    st->env->spawn(warn_at(st, obj, obj->generation, warn_time));
    st->env->spawn(expire_at(st, obj, obj->generation, until));
  } else {
    obj->warn_registered = false;  // Unregister closes the WarnChan
    signal_lost(*obj);
  }
  obj->initialized = true;
  return true;
}

void end_update(LockObj& obj) {
  obj.updating = false;
  auto waiters = std::move(obj.update_waiters);
  obj.update_waiters.clear();
  for (auto& w : waiters) w.set(Unit{});
}

// A store call bounded by the call timeout: nothing if it has not answered by then (it
// may still be applied).
template <class T>
Task<std::optional<T>> call(State& st, Future<T> f) {
  // The timer is a named local: with it as a temporary inside the co_await expression,
  // GCC 12 never resumed this coroutine (seen in this function template).
  Future<Unit> timer = st.env->sleep_for(st.s.call_timeout);
  size_t first = co_await first_of(f, timer);
  if (first == 1) co_return std::nullopt;
  co_return f.get();
}

struct Outcome {
  std::string error;  // empty: done
  std::optional<uint64_t> token;
};

Outcome store_error(Error e) { return Outcome{std::string(error_name(e)), std::nullopt}; }
Outcome timed_out() { return Outcome{std::string(kCallTimedOut), std::nullopt}; }
Outcome taken(bool with_cause) {
  return Outcome{with_cause ? kConditionFailed : std::string(kLeaseTaken), std::nullopt};
}

// Creates the row; NoNode (the lock path's parent missing) makes the parents once.
Task<std::optional<CreateReply>> create_row(std::shared_ptr<State> st, std::string data) {
  for (int attempt = 0;; ++attempt) {
    auto made = co_await call(*st, st->session->create(st->path, data, CreateMode::Persistent));
    if (!made || made->err != Error::NoNode || attempt > 0) co_return made;
    Error parents = co_await ensure_path(*st->env, *st->session, parent_path(st->path),
                                         st->env->now() + st->s.call_timeout);
    if (parents != Error::Ok) {
      CreateReply r;
      r.err = parents;
      co_return r;
    }
  }
}

// InsertNewLock without fencing: put {owner, until} if there is no row or its until is
// at or before steal-until. The row is replaced whole: a token in it is dropped.
Task<Outcome> insert_plain(std::shared_ptr<State> st, int64_t until_ms, int64_t steal_ms) {
  const std::string data = encode(st->s.owner, until_ms, std::nullopt);
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto made = co_await create_row(st, data);
    if (!made) co_return timed_out();
    if (made->err == Error::Ok) co_return Outcome{};
    if (made->err != Error::NodeExists) co_return store_error(made->err);
    auto got = co_await call(*st, st->session->get(st->path));
    if (!got) co_return timed_out();
    if (got->err == Error::NoNode) continue;  // gone meanwhile: the put would succeed
    if (got->err != Error::Ok) co_return store_error(got->err);
    Row row = decode(got->data);
    if (!row.until_ms || *row.until_ms > steal_ms) co_return taken(true);
    auto set = co_await call(*st, st->session->set(st->path, data, got->stat.version));
    if (!set) co_return timed_out();
    if (set->err == Error::Ok) co_return Outcome{};  // stolen from an expired holder
    if (set->err == Error::BadVersion || set->err == Error::NoNode) co_return taken(true);
    co_return store_error(set->err);
  }
  co_return taken(true);
}

// InsertNewLock with fencing: read; a row with a token whose until is at or after
// steal-until is taken; else the token is the old one + 1 (1 if none) and the row is
// written only if unchanged since the read.
Task<Outcome> insert_fencing(std::shared_ptr<State> st, int64_t until_ms, int64_t steal_ms) {
  auto got = co_await call(*st, st->session->get(st->path));
  if (!got) co_return timed_out();
  if (got->err != Error::Ok && got->err != Error::NoNode) co_return store_error(got->err);
  const Row row = got->err == Error::Ok ? decode(got->data) : Row{};
  if (got->err == Error::Ok && row.token) {
    if (row.until_ms.value_or(0) >= steal_ms) co_return taken(false);
    const uint64_t token = *row.token + 1;
    auto set = co_await call(
        *st, st->session->set(st->path, encode(st->s.owner, until_ms, token), got->stat.version));
    if (!set) co_return timed_out();
    if (set->err == Error::Ok) co_return Outcome{"", token};
    if (set->err == Error::BadVersion || set->err == Error::NoNode) co_return taken(true);
    co_return store_error(set->err);
  }
  const std::string data = encode(st->s.owner, until_ms, 1);
  if (got->err == Error::NoNode) {
    auto made = co_await create_row(st, data);
    if (!made) co_return timed_out();
    if (made->err == Error::Ok) co_return Outcome{"", 1};
    if (made->err == Error::NodeExists) co_return taken(true);
    co_return store_error(made->err);
  }
  // A row without a token (a non-fencing locker's): stealable as without fencing.
  if (!row.until_ms || *row.until_ms > steal_ms) co_return taken(true);
  auto set = co_await call(*st, st->session->set(st->path, data, got->stat.version));
  if (!set) co_return timed_out();
  if (set->err == Error::Ok) co_return Outcome{"", 1};
  if (set->err == Error::BadVersion || set->err == Error::NoNode) co_return taken(true);
  co_return store_error(set->err);
}

// UpdateUntil: until := new_until if the row's owner is ours and its until is old_until.
// Without fencing the library puts the row whole ({owner, until}), dropping a token;
// with fencing it updates the two fields and keeps the token.
Task<bool> update_until(std::shared_ptr<State> st, Time old_until, int64_t new_until_ms) {
  auto got = co_await call(*st, st->session->get(st->path));
  if (!got || got->err != Error::Ok) co_return false;
  Row row = decode(got->data);
  if (row.owner != st->s.owner || row.until_ms != unix_milli(old_until)) co_return false;
  const std::optional<uint64_t> token = st->s.fencing ? row.token : std::nullopt;
  auto set = co_await call(
      *st, st->session->set(st->path, encode(st->s.owner, new_until_ms, token), got->stat.version));
  co_return set && set->err == Error::Ok;
}

// RemoveLock (without fencing: delete the row if owner and until are ours) or
// ReleaseLock (with fencing: until := the epoch + 1 s, so the token survives).
Task<bool> remove_row(std::shared_ptr<State> st, Time lease_until) {
  if (st->s.fencing) co_return co_await update_until(st, lease_until, kEpochMs + 1000);
  auto got = co_await call(*st, st->session->get(st->path));
  if (!got || got->err != Error::Ok) co_return false;
  Row row = decode(got->data);
  if (row.owner != st->s.owner || row.until_ms != unix_milli(lease_until)) co_return false;
  auto removed = co_await call(*st, st->session->remove(st->path, got->stat.version));
  co_return removed&&* removed == Error::Ok;
}

// lockerImpl.unlock: wait for an update in flight, delete (or release) the row, errors
// ignored ("calling code must assume it does not have the lock anymore anyway"), mark
// the object unlocked and drop it from the active locks.
Task<void> unlock(std::shared_ptr<State> st, std::shared_ptr<LockObj> obj) {
  while (obj->updating) {
    Promise<Unit> turn;
    obj->update_waiters.push_back(turn);
    co_await turn.future();
  }
  if (obj->unlocked) co_return;
  obj->updating = true;
  co_await remove_row(st, obj->lease_until);
  update(st, obj, kEpoch, kEpoch, true);  // refused if already expired: IsExpired is anyway
  end_update(*obj);
  if (st->active == obj) st->active.reset();
}

Task<void> heartbeat(std::shared_ptr<State> st, std::shared_ptr<LockObj> obj) {
  if (expired_now(*st, *obj)) {
    co_await unlock(st, obj);  // cleanup of a lock that timed out
    co_return;
  }
  if (obj->updating) co_return;  // TryLockForUpdate failed: skip this beat
  obj->updating = true;
  const Time now = st->env->now();
  const Time new_until = now + st->s.lease;
  // A failed or ambiguous write leaves the local lease where it was: the lock then
  // expires locally although the row may have been extended.
  bool written = co_await update_until(st, obj->lease_until, unix_milli(new_until));
  if (written && !update(st, obj, new_until, now + st->s.warn_after, false)) {
    // Expired while the write was out: IsExpired may have said so already, so give the
    // lock up rather than let it come back.
    end_update(*obj);
    co_await unlock(st, obj);
    co_return;
  }
  end_update(*obj);
}

// The Locker's heartbeat ticker, started with the Locker: ticks every interval from its
// creation; a tick that comes while a heartbeat runs waits (one), the rest are dropped.
Task<void> heartbeat_loop(std::shared_ptr<State> st) {
  const Time base = st->env->now();
  const Duration every = st->s.heartbeat;
  int64_t next = 1;
  bool pending = false;
  for (;;) {
    if (!pending) {
      co_await st->env->timer_at(base + every * next);
      ++next;
    }
    pending = false;
    if (st->closed) co_return;
    if (auto obj = st->active) co_await heartbeat(st, obj);
    if (st->closed) co_return;
    const int64_t fired = (st->env->now() - base) / every;
    if (fired >= next) {
      pending = true;
      next = fired + 1;
    }
  }
}

LeaseFencedLock::Settings read_settings(const OptionValues& o, Env& env) {
  // The factory replaces zero durations with its defaults.
  auto duration = [&](const std::string& key) {
    const Duration d = o.duration(key);
    return d == Duration(0) ? o.default_duration(key) : d;
  };
  LeaseFencedLock::Settings s;
  s.lease = duration("lease");
  s.heartbeat = duration("heartbeat");
  s.warn_after = duration("warn_after");
  s.max_clock_skew = duration("max_clock_skew");
  s.call_timeout = duration("call_timeout");
  // "mixed": even-numbered clients lock with fencing and odd ones without, on one row, as
  // the library allows (its two modes share the table).
  const std::string& fencing = o.text("fencing");
  s.fencing = fencing == "mixed" ? env.client_index() % 2 == 0 : fencing == "true";
  s.owner = o.text("owner");
  if (s.owner.empty())
    s.owner =
        "client-" + std::to_string(env.client_index()) + "-" + env.random_hex_id().substr(0, 8);
  return s;
}

}  // namespace

LeaseFencedLock::LeaseFencedLock(LockContext ctx)
    : settings_(read_settings(ctx.options, *ctx.env)), state_(std::make_shared<State>()) {
  state_->env = ctx.env;
  state_->session = ctx.sessions.at(0);
  state_->path = ctx.path;
  state_->s = settings_;
  ctx.env->spawn(heartbeat_loop(state_));
}

LeaseFencedLock::~LeaseFencedLock() { state_->closed = true; }

Task<AcquireResult> LeaseFencedLock::acquire(Time deadline) {
  Future<Unit> timeout = state_->env->timer_at(deadline);
  for (;;) {
    AcquireResult r = co_await try_lock();
    if (r.acquired || state_->env->now() >= deadline) co_return r;
    Future<Unit> pause = state_->env->sleep_for(kTryLockPause);
    size_t first = co_await first_of(timeout, pause);
    if (first == 0) co_return r;
  }
}

Task<AcquireResult> LeaseFencedLock::try_lock() {
  std::shared_ptr<State> st = state_;
  AcquireResult r;
  if (st->active) {
    // One Lock object per lock id and Locker, even an expired one the heartbeat has not
    // cleaned up yet.
    r.error = std::string(kLeaseSameLocker);
    co_return r;
  }
  const Time now = st->env->now();
  const Time until = now + st->s.lease;
  const Time steal_until = now - st->s.max_clock_skew;
  auto obj = std::make_shared<LockObj>();
  st->active = obj;
  // (An if, not ?:, around the co_await: GCC 12 miscompiles a co_await in a
  // conditional operand.)
  Outcome inserted;
  if (st->s.fencing)
    inserted = co_await insert_fencing(st, unix_milli(until), unix_milli(steal_until));
  else
    inserted = co_await insert_plain(st, unix_milli(until), unix_milli(steal_until));
  if (!inserted.error.empty()) {
    if (st->active == obj) st->active.reset();
    r.error = inserted.error;
    co_return r;
  }
  obj->token = inserted.token;
  // The lease end was computed before the write: the time the write took is already
  // spent from it.
  update(st, obj, until, now + st->s.warn_after, false);
  st->last = obj;
  r.acquired = true;
  r.lease.token = obj->token;
  r.lease.lost = obj->lost.future();
  co_return r;
}

Task<ReleaseResult> LeaseFencedLock::release() {
  std::shared_ptr<State> st = state_;
  std::shared_ptr<LockObj> obj = st->last;
  if (obj && !obj->unlocked) co_await unlock(st, obj);
  co_return ReleaseResult{};
}

bool LeaseFencedLock::is_expired() const {
  return !state_->last || expired_now(*state_, *state_->last);
}

Future<Unit> LeaseFencedLock::warned() const {
  return state_->last ? state_->last->first_warning.future() : Future<Unit>();
}

int LeaseFencedLock::warnings() const { return state_->last ? state_->last->warnings : 0; }

std::optional<uint64_t> LeaseFencedLock::fencing_token() const {
  return state_->last ? state_->last->token : std::nullopt;
}

std::optional<Time> LeaseFencedLock::lease_until() const {
  if (!state_->last) return std::nullopt;
  return state_->last->lease_until;
}

std::unique_ptr<Lock> make_lease_fenced(LockContext ctx) {
  return std::make_unique<LeaseFencedLock>(std::move(ctx));
}

}  // namespace lockstep::locks
