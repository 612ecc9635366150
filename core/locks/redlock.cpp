#include "core/locks/redlock.h"

#include <algorithm>
#include <stdexcept>

#include "core/locks/common.h"

namespace lockstep::locks {

namespace {

constexpr std::string_view kDeadlineExceeded = "context deadline exceeded";

template <class T>
Task<void> settle_into(Task<T> task, Promise<T> promise) {
  promise.set(co_await std::move(task));
}

// The options were validated against the catalogue entry (bounds included); `stores` is
// read by whoever opens the sessions: here N is the sessions we get.
RedlockLock::Settings read_settings(const OptionValues& o) {
  return RedlockLock::Settings{
      .expiry = o.duration("expiry"),
      .tries = static_cast<int>(o.integer("tries")),
      .retry_delay_min = o.duration("retry_delay_min"),
      .retry_delay_max = o.duration("retry_delay_max"),
      .drift_factor = o.number("drift_factor"),
      .timeout_factor = o.number("timeout_factor"),
      .value = o.text("value"),
  };
}

// The key's current incarnation: the lowest of the sequence-named children, or none.
std::optional<std::string> lowest_child(const std::string& key,
                                        const std::vector<std::string>& children) {
  std::vector<SequentialNode> sorted = sorted_by_sequence(children);
  if (sorted.empty()) return std::nullopt;
  return join_path(key, sorted.front().name);
}

// go-redsync bounds each store call with the try's context (expiry x timeout factor): a
// command is written only while that context lives, on a connection that is up (a dial
// that cannot finish in time fails the call), and nothing retries it. So no SET leaves
// after Lock has returned. Here: the call goes out only before `bound` on a connected
// session; a session that is not, is first given a harmless read to bring it back (a
// renewing session renews on it), and then must still be in time.
Task<std::optional<std::string>> not_sendable(Env& env, std::shared_ptr<Session> session,
                                              std::string key, std::optional<Time> bound) {
  auto late = [&env, bound] { return bound && env.now() >= *bound; };
  if (late()) co_return std::string(kDeadlineExceeded);
  if (session->state() != SessionState::Connected) {
    co_await session->exists(key, false);
    if (late()) co_return std::string(kDeadlineExceeded);
    if (session->state() != SessionState::Connected)
      co_return std::string(error_name(Error::ConnectionLoss));
  }
  co_return std::nullopt;
}

// "/locks/a" -> "/locks", "/locks/a": the nodes a key's incarnations need above them.
std::vector<std::string> ancestors_and_self(const std::string& path) {
  std::vector<std::string> out;
  for (size_t slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1))
    out.push_back(path.substr(0, slash));
  out.push_back(path);
  return out;
}

AcquireResult failure(std::string why) {
  AcquireResult r;
  r.error = std::move(why);
  return r;
}

}  // namespace

RedlockLock::RedlockLock(LockContext ctx)
    : env_(*ctx.env),
      sessions_(std::move(ctx.sessions)),
      key_(ctx.path),
      settings_(read_settings(ctx.options)),
      value_(settings_.value) {
  if (sessions_.empty()) throw std::logic_error("redlock: no session");
}

Duration RedlockLock::scaled(double factor) const {
  // time.Duration(int64(float64(m.expiry) * factor))
  // (saturated: a factor of thousands times an expiry of years must not wrap around)
  return scale_sat(settings_.expiry, factor);
}

Task<AcquireResult> RedlockLock::acquire(Time deadline) {
  const std::string value = settings_.value.empty() ? env_.random_hex_id() : settings_.value;
  Future<Unit> ctx_done = env_.timer_at(deadline);
  for (int i = 0; i < settings_.tries; ++i) {
    if (i != 0) {
      Duration delay = env_.uniform_duration(settings_.retry_delay_min, settings_.retry_delay_max);
      Future<Unit> pause = env_.sleep_for(delay);
      size_t first = co_await first_of(ctx_done, pause);
      if (first == 0) co_return failure(std::string(kRedlockFailed));
    }
    const Time start = env_.now();
    const Time bound = std::min(deadline, start + scaled(settings_.timeout_factor));
    Tally got = co_await on_all_stores(Op::Acquire, value, bound, {});
    // The validity is the client's own reckoning: each key expires on its server's
    // clock, which the drift factor is trusted to cover.
    const Time now = env_.now();
    const Time until = now + settings_.expiry - (now - start) - scaled(settings_.drift_factor);
    if (got.ok >= quorum() && now < until) {
      value_ = value;
      nodes_ = got.nodes;
      until_ = until;
      AcquireResult r;
      r.acquired = true;
      if (sessions_.size() == 1) r.lease.node_czxid = static_cast<uint64_t>(got.czxid);
      co_return r;
    }
    // Not enough: take back what we set, on every store, within the same bound.
    const Time after = env_.now();
    co_await on_all_stores(Op::Release, value,
                           std::min(deadline, after + scaled(settings_.timeout_factor)), got.nodes);
    if (i == settings_.tries - 1 && !got.errors.empty()) co_return failure(got.errors);
  }
  co_return failure(std::string(kRedlockFailed));
}

Task<ReleaseResult> RedlockLock::release() {
  Tally got = co_await on_all_stores(Op::Release, value_, std::nullopt, nodes_);
  ReleaseResult r;
  if (got.ok < quorum()) {
    r.ok = false;
    r.error = std::string(kRedlockNotAcquired);
  }
  co_return r;
}

Task<ReleaseResult> RedlockLock::extend() {
  const Time start = env_.now();
  Tally got = co_await on_all_stores(Op::Touch, value_, std::nullopt, nodes_);
  ReleaseResult r;
  const Time now = env_.now();
  const Time until = now + settings_.expiry - (now - start) - scaled(settings_.drift_factor);
  if (got.ok < quorum() || now >= until) {
    r.ok = false;
    r.error = std::string(kRedlockNotAcquired);
    co_return r;
  }
  until_ = until;
  co_return r;
}

Task<bool> RedlockLock::valid() {
  // May say true when a quorum answered in time but a key expired while the last
  // stores were still answering, as the library's documentation warns.
  Tally got = co_await on_all_stores(Op::Read, value_, std::nullopt, nodes_);
  co_return got.ok >= quorum();
}

Task<RedlockLock::Tally> RedlockLock::on_all_stores(Op op, std::string value,
                                                    std::optional<Time> bound,
                                                    std::vector<std::string> known) {
  // Every store's call is its own task, so all proceed at once (a goroutine per pool in
  // the library); the results are collected when all have answered or the bound passed.
  std::vector<Future<StoreAnswer>> answers;
  answers.reserve(sessions_.size());
  known.resize(sessions_.size());
  for (size_t k = 0; k < sessions_.size(); ++k) {
    Promise<StoreAnswer> promise;
    answers.push_back(promise.future());
    env_.spawn(settle_into(
        store_op(op, env_, sessions_[k], key_, value, settings_.expiry, known[k], bound), promise));
  }
  Future<Unit> timer = bound ? env_.timer_at(*bound) : Future<Unit>();
  Tally tally;
  tally.nodes.resize(sessions_.size());
  for (size_t k = 0; k < answers.size(); ++k) {
    Future<StoreAnswer>& answer = answers[k];
    if (timer.valid()) {
      size_t first = co_await first_of(answer, timer);
      if (first == 1) {
        // The context's deadline: the call may still take effect on the store.
        tally.errors += (tally.errors.empty() ? "" : "; ") + std::string(kDeadlineExceeded);
        continue;
      }
    }
    StoreAnswer a = co_await answer;
    if (a.ok) {
      ++tally.ok;
      tally.czxid = a.czxid;
      tally.nodes[k] = a.node;
    } else if (!a.error.empty()) {
      tally.errors += (tally.errors.empty() ? "" : "; ") + a.error;
    }
  }
  co_return tally;
}

Task<RedlockLock::StoreAnswer> RedlockLock::store_op(Op op, Env& env,
                                                     std::shared_ptr<Session> session,
                                                     std::string key, std::string value,
                                                     Duration expiry, std::string known,
                                                     std::optional<Time> bound) {
  StoreAnswer out;
  auto error = [&out](Error e) {
    out.error = std::string(error_name(e));
    return out;
  };
  if (op == Op::Acquire) {
    // SET key value NX PX expiry: a TTL node of our own, and the listing right behind it
    // on the same connection (so in one round trip), which shows whether an older
    // incarnation of the key is still there.
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (auto why = co_await not_sendable(env, session, key, bound)) {
        out.error = *why;
        co_return out;
      }
      Future<CreateReply> creating =
          session->create(join_path(key, kIncarnationPrefix), value,
                          CreateMode::PersistentSequentialWithTtl, expiry);
      Future<ChildrenReply> listing = session->children(key, false);
      CreateReply made = co_await creating;
      ChildrenReply kids = co_await listing;
      if (made.err == Error::NoNode && attempt == 0) {
        // Redis keys have no parents: making them is the port's, and bounded alike.
        for (const std::string& parent : ancestors_and_self(key)) {
          if (auto why = co_await not_sendable(env, session, key, bound)) {
            out.error = *why;
            co_return out;
          }
          CreateReply p = co_await session->create(parent, "", CreateMode::Persistent);
          if (p.err != Error::Ok && p.err != Error::NodeExists) co_return error(p.err);
        }
        continue;
      }
      if (made.err != Error::Ok) co_return error(made.err);
      std::optional<std::string> first;
      if (kids.err == Error::Ok) first = lowest_child(key, kids.children);
      if (first && *first == made.path) {
        out.ok = true;
        out.czxid = made.stat.czxid;
        out.node = made.path;
        co_return out;
      }
      // The key was taken (SETNX said no), or the listing failed: ours must not stay.
      Error removed = co_await session->remove(made.path, -1);
      if (kids.err != Error::Ok) co_return error(kids.err);
      if (removed != Error::Ok && removed != Error::NoNode) co_return error(removed);
      co_return out;
    }
    co_return out;
  }

  // The scripts' GET: our own incarnation when this Lock made it, else whichever is
  // current (another Lock of the same value may have set it).
  std::string node = known;
  if (node.empty()) {
    ChildrenReply kids = co_await session->children(key, false);
    if (kids.err == Error::NoNode) co_return out;  // GET returns nil
    if (kids.err != Error::Ok) co_return error(kids.err);
    std::optional<std::string> first = lowest_child(key, kids.children);
    if (!first) co_return out;
    node = *first;
  }
  GetReply got = co_await session->get(node, false);
  if (got.err == Error::NoNode) co_return out;
  if (got.err != Error::Ok) co_return error(got.err);
  if (got.data != value) co_return out;
  if (op == Op::Read) {
    out.ok = true;
    co_return out;
  }
  if (op == Op::Release) {
    // The script's DEL: the node's name is this incarnation's alone, so a key set again
    // meanwhile is another node and stays.
    Error removed = co_await session->remove(node, got.stat.version);
    if (removed == Error::Ok) {
      out.ok = true;
      co_return out;
    }
    if (removed == Error::NoNode || removed == Error::BadVersion) co_return out;
    co_return error(removed);
  }
  // PEXPIRE: setting the same value resets the node's mtime, from which its TTL runs.
  SetReply set = co_await session->set(node, value, got.stat.version);
  if (set.err == Error::Ok) {
    out.ok = true;
    co_return out;
  }
  if (set.err == Error::NoNode || set.err == Error::BadVersion) co_return out;
  co_return error(set.err);
}

std::unique_ptr<Lock> make_redlock(LockContext ctx) {
  return std::make_unique<RedlockLock>(std::move(ctx));
}

}  // namespace lockstep::locks
