#include "core/locks/kazoo_170.h"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "core/locks/common.h"

namespace lockstep::locks {

namespace {

constexpr std::string_view kNodeName = "__lock__";
// KazooRetry's defaults: delay 0.1 s, backoff 2, max_jitter 0.8 (up to 800 ms added).
constexpr Duration kFirstDelay = std::chrono::milliseconds(100);
constexpr Duration kMaxJitter = std::chrono::milliseconds(800);
// The client's own retry of a release (KazooClient.retry).
constexpr int kReleaseAttempts = 5;

// _get_sorted_children: sorted by what follows `__lock__` (the sequence number; names
// are `<uuid>__lock__NNNNNNNNNN`, without the '-' the other ports' names have).
std::vector<std::string> sorted_children(std::vector<std::string> children) {
  auto key = [](const std::string& name) {
    const size_t at = name.find(kNodeName);
    return at == std::string::npos ? name : name.substr(at + kNodeName.size());
  };
  std::sort(children.begin(), children.end(), [&](const std::string& a, const std::string& b) {
    return key(a) != key(b) ? key(a) < key(b) : a < b;
  });
  return children;
}

bool retryable(Error e) {
  return e == Error::ConnectionLoss || e == Error::OperationTimeout || e == Error::SessionExpired;
}

class KazooLock final : public Lock {
 public:
  explicit KazooLock(LockContext ctx)
      : env_(*ctx.env),
        session_(ctx.sessions.at(0)),
        dir_(ctx.path),
        bug_(ctx.options.boolean("bug")),
        prefix_(env_.random_hex_id() + std::string(kNodeName)) {}

  Task<AcquireResult> acquire(Time deadline) override {
    const Duration timeout = deadline - env_.now();
    Duration delay = kFirstDelay;
    for (;;) {
      Attempt a = co_await inner_acquire(timeout);
      if (a.outcome == Outcome::Acquired) co_return granted();
      if (a.outcome == Outcome::Retry) {
        // KazooRetry: give up once the next sleep would pass the deadline.
        Duration sleep = delay + env_.uniform_duration(Duration(0), kMaxJitter);
        delay *= 2;
        if (env_.now() + sleep < deadline) {
          co_await env_.sleep_for(sleep);
          continue;
        }
        a.error = "RetryFailedError: Exceeded retry deadline";
      }
      co_await best_effort_cleanup();
      AcquireResult r;
      r.error = a.error;
      co_return r;
    }
  }

  Task<ReleaseResult> release() override {
    ReleaseResult r;
    if (!acquired_) co_return r;
    Error err = co_await remove_retrying(env_, *session_, join_path(dir_, node_), kReleaseAttempts);
    if (err != Error::Ok && err != Error::NoNode) {
      r.ok = false;
      r.error = keeper_error(err, join_path(dir_, node_));
      co_return r;
    }
    acquired_ = false;
    node_.clear();
    co_return r;
  }

 private:
  enum class Outcome { Acquired, Retry, Failed };
  struct Attempt {
    Outcome outcome = Outcome::Failed;
    std::string error;
  };

  static Attempt retry(Error e, std::string_view path) {
    return {retryable(e) ? Outcome::Retry : Outcome::Failed, keeper_error(e, path)};
  }

  Task<Attempt> inner_acquire(Duration timeout) {
    if (!assured_path_) {
      Error made = co_await ensure_path(env_, *session_, dir_, env_.now());
      if (made != Error::Ok) co_return retry(made, dir_);
      assured_path_ = true;
    }
    std::string node;
    if (create_tried_) {
      ChildrenReply listed = co_await session_->children(dir_);
      if (listed.err != Error::Ok) co_return retry(listed.err, dir_);
      for (const auto& name : listed.children)
        if (name.rfind(prefix_, 0) == 0) node = name;
    } else {
      create_tried_ = true;
    }
    if (node.empty()) {
      CreateReply c =
          co_await session_->create(join_path(dir_, prefix_), "", CreateMode::EphemeralSequential);
      if (c.err != Error::Ok) co_return retry(c.err, dir_);
      node = std::string(base_name(c.path));
      czxid_ = c.stat.czxid;
    } else {
      czxid_.reset();  // found by its uuid: the library never reads its Stat
    }
    node_ = node;

    for (;;) {
      ChildrenReply listed = co_await session_->children(dir_);
      if (listed.err != Error::Ok) co_return retry(listed.err, dir_);
      const std::vector<std::string> children = sorted_children(listed.children);
      size_t index = children.size();
      for (size_t i = 0; i < children.size(); ++i)
        if (children[i] == node_) index = i;
      if (index == children.size()) co_return Attempt{Outcome::Retry, "ForceRetryError"};
      if (index == 0) co_return Attempt{Outcome::Acquired, ""};

      const std::string predecessor = join_path(dir_, children[index - 1]);
      Future<SessionEvent> state_change = session_->next_event();  // the fix's listener
      ExistsReply there = co_await session_->exists(predecessor, true);
      if (there.err == Error::NoNode) continue;
      if (there.err != Error::Ok) co_return retry(there.err, predecessor);
      if (!there.watch.valid()) continue;
      Future<Unit> limit = env_.sleep_for(timeout);
      bool woken = false;
      if (bug_) {
        // KazooClient._reset_watchers drops the watcher uncalled when the session ends.
        size_t first = co_await first_of(there.watch, limit);
        if (first == 0 && there.watch.get().type == WatchEventType::SessionEnded) {
          co_await limit;
          first = 1;
        }
        woken = first == 0;
      } else {
        size_t first = co_await first_of(there.watch, limit, state_change);
        woken = first != 1;
      }
      if (!woken)
        co_return Attempt{Outcome::Failed, "LockTimeout: Failed to acquire lock on " + dir_ +
                                               " after " + format_duration(timeout)};
    }
  }

  // _best_effort_cleanup: find our node by its uuid and delete it.
  Task<void> best_effort_cleanup() {
    ChildrenReply listed = co_await session_->children(dir_);
    if (listed.err == Error::Ok)
      for (const auto& name : listed.children)
        if (name.rfind(prefix_, 0) == 0) co_await session_->remove(join_path(dir_, name), -1);
    node_.clear();
  }

  AcquireResult granted() {
    acquired_ = true;
    AcquireResult r;
    r.acquired = true;
    if (czxid_) r.lease.node_czxid = static_cast<uint64_t>(*czxid_);
    if (const size_t at = node_.find(kNodeName); at != std::string::npos)
      if (auto seq = sequence_number("-" + node_.substr(at + kNodeName.size())); seq && *seq >= 0)
        r.lease.node_sequence = static_cast<uint64_t>(*seq);
    return r;
  }

  Env& env_;
  std::shared_ptr<Session> session_;
  std::string dir_;
  bool bug_;
  std::string prefix_;  // uuid4().hex + "__lock__", one per Lock object
  bool assured_path_ = false;
  bool create_tried_ = false;  // never reset, as in the library
  bool acquired_ = false;
  std::string node_;
  std::optional<int64_t> czxid_;
};

}  // namespace

std::unique_ptr<Lock> make_kazoo_170(LockContext ctx) {
  return std::make_unique<KazooLock>(std::move(ctx));
}

}  // namespace lockstep::locks
