#include "core/locks/zk_ttl.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "core/locks/common.h"

namespace lockstep::locks {

namespace {

constexpr std::string_view kProtectedPrefix = "_c_";  // go-zk's protectedPrefix
constexpr size_t kGuidLength = 32;
constexpr std::string_view kLockName = "lock-";
constexpr int kProtectedCreateAttempts = 3;  // CreateProtectedEphemeralSequential's loop
constexpr Duration kPassPause = std::chrono::milliseconds(50);
constexpr int kMaxPasses = 5;  // "interval > 5 && lockWaitingErr != nil"
constexpr int kUnlockAttempts = 3;
constexpr Duration kUnlockPause = std::chrono::milliseconds(125);
constexpr std::string_view kNoLockAhead = "unable to determine which lock to enqueue behind";
constexpr std::string_view kNoLockPath = "failed to get lock path; referenced ID doesn't exist";
constexpr std::string_view kExpireFailed = "attempt to expire lock failed: ";

// The texts go-zk's errors print, which the library's errors wrap.
std::string go_zk_error(Error e) {
  switch (e) {
    case Error::ConnectionLoss:
      return "zk: connection closed";
    case Error::NoNode:
      return "zk: node does not exist";
    case Error::NodeExists:
      return "zk: node already exists";
    case Error::BadVersion:
      return "zk: version conflict";
    case Error::NotEmpty:
      return "zk: node has children";
    case Error::NoChildrenForEphemerals:
      return "zk: ephemeral nodes may not have children";
    case Error::SessionExpired:
      return "zk: session has been expired by the server";
    case Error::NoAuth:
      return "zk: not authenticated";
    case Error::AuthFailed:
      return "zk: client authentication failed";
    case Error::Closing:
      return "zk: zookeeper is closing";
    case Error::SessionMoved:
      return "zk: session moved to another server, so operation is ignored";
    case Error::BadArguments:
      return "invalid arguments";
    case Error::ApiError:
      return "zk: api error";
    default:
      return "zk: " + std::string(error_name(e));
  }
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

// json.Unmarshal of the metadata, as far as the purge needs it: the TTL deadline, or the
// error that makes the purge fail. A missing deadline is Go's zero time, before any
// clock reading, so such a node counts as expired, as in the library.
struct Deadline {
  Time at{0};
  std::string error;
};
Deadline parse_deadline(std::string_view data) {
  Deadline d;
  size_t start = data.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos) {
    d.error = "unexpected end of JSON input";
    return d;
  }
  if (data[start] != '{') {
    d.error = std::string("invalid character '") + data[start] + "' looking for beginning of value";
    return d;
  }
  constexpr std::string_view key = "\"ttl_deadline\":";
  size_t at = data.find(key);
  if (at == std::string_view::npos) {
    d.at = Time::min();
    return d;
  }
  const char* first = data.data() + at + key.size();
  const char* last = data.data() + data.size();
  int64_t ns = 0;
  auto [end, ec] = std::from_chars(first, last, ns);
  if (ec != std::errc() || end == first) {
    d.error = "json: cannot unmarshal ttl_deadline";
    return d;
  }
  d.at = Time(ns);
  return d;
}

AcquireResult failure(std::string why) {
  AcquireResult r;
  r.error = std::move(why);
  return r;
}

}  // namespace

std::optional<int64_t> zk_ttl_id_from_znode(std::string_view name) {
  size_t dash = name.rfind('-');
  std::string_view digits = dash == std::string_view::npos ? name : name.substr(dash + 1);
  // strconv.Atoi takes a leading sign; from_chars takes only '-', and a '-' cannot be
  // left after the split, so only '+' needs skipping.
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  if (digits.empty() || digits.front() == '-') return std::nullopt;
  int64_t id = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return id;
}

// LockEntries: the ids of the sequential children in ascending order, and each id's path
// (the library's map from id to path: of two children with one id, the later listed).
// Kept as the listing and each child's id, and asked in one pass each: a herd's waiters
// each read listings of N names, and a map of N paths and a sort per listing were most of
// a large herd's time, where a waiter asks only for the first, its own and the one ahead.
struct ZkTtlLock::Entries {
  std::string dir;
  std::vector<std::string> names;                 // the listing, as it came
  std::vector<std::pair<int64_t, size_t>> where;  // (id, place in `names`), in that order

  // First(): an empty list gives 0 with an error the library ignores, so a claim whose
  // id is 0 (the first ever made under the path) "holds" an empty lock: kept.
  int64_t first() const {
    if (where.empty()) return 0;
    int64_t lowest = where.front().first;
    for (const auto& w : where) lowest = std::min(lowest, w.first);
    return lowest;
  }
  // The id just before `id`'s first place in ascending order: the greatest id below it,
  // or `id` itself when it is the lowest and listed twice.
  std::optional<int64_t> ahead(int64_t id) const {
    size_t count = 0;
    std::optional<int64_t> below;
    for (const auto& w : where) {
      if (w.first == id) ++count;
      if (w.first < id && (!below || w.first > *below)) below = w.first;
    }
    if (count == 0) return std::nullopt;
    if (below) return below;
    if (count >= 2) return id;
    return std::nullopt;
  }
  std::optional<std::string> path(int64_t id) const {
    const std::pair<int64_t, size_t>* last = nullptr;
    for (const auto& w : where)
      if (w.first == id) last = &w;
    if (!last) return std::nullopt;
    return join_path(dir, names[last->second]);
  }
  void forget_all() {
    forget(names);
    forget(where);
  }
};

ZkTtlLock::ZkTtlLock(LockContext ctx)
    : env_(*ctx.env),
      session_(ctx.sessions.at(0)),
      path_(ctx.path),
      ttl_(ctx.options.duration("ttl")) {
  const std::string& owner = ctx.options.text("owner");
  if (!owner.empty()) default_owner_ = owner;
}

Task<AcquireResult> ZkTtlLock::acquire(Time deadline) {
  return acquire_as(default_owner_, deadline);
}

Task<ReleaseResult> ZkTtlLock::release() { return release_as(default_owner_); }

std::string ZkTtlLock::metadata(const std::optional<std::string>& owner) const {
  const Time now = env_.now();
  return "{\"timestamp\":" + std::to_string(now.count()) +
         ",\"ttl_deadline\":" + std::to_string((now + ttl_).count()) +
         ",\"owner_id\":" + json_string(owner ? *owner : "<nil>") + "}";
}

Task<AcquireResult> ZkTtlLock::acquire_as(std::optional<std::string> owner, Time deadline) {
  if (owner && owner_ && *owner == *owner_) co_return failure(std::string(kZkTtlAlreadyOwn));
  if (!initialized_) {
    Error made = co_await ensure_path(env_, *session_, path_, deadline);
    if (made != Error::Ok) co_return failure(std::string(kZkTtlLockingFailed) + go_zk_error(made));
    initialized_ = true;
  }
  Future<Unit> timeout = env_.timer_at(deadline);

  Created created = co_await create_protected(metadata(owner));
  if (!created.error.empty())
    co_return co_await fail("", std::string(kZkTtlLockingFailed) + created.error);
  const std::string node = created.path;
  std::optional<int64_t> this_id = zk_ttl_id_from_znode(node);
  if (!this_id)
    co_return co_await fail(node,
                            std::string(kZkTtlLockingFailed) + std::string(kZkTtlInvalidSeqNode));

  int interval = 0;
  // lockWaitingErr: set by any error on the way and never cleared, so a waiter that
  // meets a few ordinary races (the node ahead gone before its watch is set) gives up
  // after its fifth pass. The library's behaviour, kept.
  std::optional<std::string> waiting_err;
  for (;;) {
    ++interval;
    if (interval > kMaxPasses && waiting_err)
      co_return co_await fail(node, std::string(kZkTtlLockingFailed) + *waiting_err);
    // Only the watch wait below races the deadline: the pause, the listing and the purge
    // do not look at it, as in the library.
    if (interval > 1) co_await env_.sleep_for(kPassPause);

    Entries entries;
    std::string listed = co_await locks(entries);
    if (!listed.empty()) co_return co_await fail(node, std::string(kZkTtlLockingFailed) + listed);

    if (*this_id == entries.first()) {
      // LockPath's error is ignored: a holder whose own node has gone records "".
      lock_znode_ = entries.path(*this_id).value_or("");
      if (owner) owner_ = owner;
      AcquireResult r;
      r.acquired = true;
      if (created.czxid) r.lease.node_czxid = static_cast<uint64_t>(*created.czxid);
      if (*this_id >= 0) r.lease.node_sequence = static_cast<uint64_t>(*this_id);
      co_return r;
    }

    bool expired = false;
    std::string purge = co_await expire_lock_ahead(entries, *this_id, expired);
    if (!purge.empty()) {
      waiting_err = purge;
      continue;
    }
    if (expired) continue;

    // getLockAheadWait: a data watch on the node ahead.
    std::optional<int64_t> ahead = entries.ahead(*this_id);
    if (!ahead) {
      waiting_err = std::string(kNoLockAhead);
      continue;
    }
    std::optional<std::string> ahead_path = entries.path(*ahead);
    if (!ahead_path) {
      waiting_err = std::string(kNoLockPath);
      continue;
    }
    // The frame lives while we wait: keep the one path we need (see forget()).
    entries.forget_all();
    GetReply got = co_await session_->get(*ahead_path, true);
    if (got.err != Error::Ok || !got.watch.valid()) {
      waiting_err = go_zk_error(got.err == Error::Ok ? Error::SystemError : got.err);
      continue;
    }
    size_t which = co_await first_of(timeout, got.watch);
    // Go's select picks at random among the cases that are ready.
    if (timeout.ready() && got.watch.ready()) which = env_.uniform(2);
    if (which == 0) co_return co_await fail(node, std::string(kZkTtlTimedOut));
    // Any event on the node ahead (deleted, changed, or the session's end) means another
    // pass.
  }
}

Task<ReleaseResult> ZkTtlLock::release_as(std::optional<std::string> owner) {
  ReleaseResult r;
  if (owner && owner != owner_) {
    r.ok = false;
    r.error = std::string(kZkTtlNotOwner);
    co_return r;
  }
  std::string err;
  for (int attempt = 0; attempt < kUnlockAttempts; ++attempt) {
    err = co_await delete_lock_znode(lock_znode_);
    if (err.empty()) break;
    // The library sleeps after every failed attempt, the last one included.
    co_await env_.sleep_for(kUnlockPause);
  }
  if (!err.empty()) {
    r.ok = false;
    r.error = std::string(kZkTtlUnlockingFailed) + err;
    co_return r;
  }
  lock_znode_.clear();
  owner_.reset();
  co_return r;
}

Task<ZkTtlLock::Created> ZkTtlLock::create_protected(std::string data) {
  // go-zk's CreateProtectedEphemeralSequential: a GUID in the name so a create whose
  // reply was lost can be found again; up to 3 creates.
  const std::string guid = env_.random_hex_id();
  const std::string protected_path =
      join_path(path_, std::string(kProtectedPrefix) + guid + "-" + std::string(kLockName));
  Created out;
  for (int i = 0; i < kProtectedCreateAttempts; ++i) {
    CreateReply made =
        co_await session_->create(protected_path, data, CreateMode::EphemeralSequential);
    if (made.err == Error::Ok) {
      out.error.clear();
      out.path = made.path;
      out.czxid = made.stat.czxid;
      co_return out;
    }
    out.error = go_zk_error(made.err);
    if (made.err == Error::SessionExpired) continue;  // the node cannot exist: try again
    if (made.err != Error::ConnectionLoss && made.err != Error::OperationTimeout) co_return out;
    ChildrenReply listed = co_await session_->children(path_);
    if (listed.err != Error::Ok) {
      out.error = go_zk_error(listed.err);
      co_return out;
    }
    for (const auto& name : listed.children) {
      if (name.size() >= kProtectedPrefix.size() + kGuidLength &&
          name.compare(0, kProtectedPrefix.size(), kProtectedPrefix) == 0 &&
          name.compare(kProtectedPrefix.size(), kGuidLength, guid) == 0) {
        out.error.clear();
        out.path = join_path(path_, name);
        co_return out;  // found by GUID: the create's Stat (and czxid) is not known
      }
    }
  }
  co_return out;
}

Task<std::string> ZkTtlLock::locks(Entries& out) {
  ChildrenReply listed = co_await session_->children(path_);
  if (listed.err != Error::Ok) co_return go_zk_error(listed.err);
  out.dir = path_;
  out.names = std::move(listed.children);
  for (size_t i = 0; i < out.names.size(); ++i) {
    std::optional<int64_t> id = zk_ttl_id_from_znode(out.names[i]);
    if (!id) continue;  // junk entries are ignored
    out.where.push_back({*id, i});
  }
  co_return std::string();
}

Task<std::string> ZkTtlLock::delete_lock_znode(std::string path) {
  // go-zk checks the path before sending anything: "" (no node recorded) never leaves.
  if (!valid_path(path)) co_return std::string("zk: invalid path");
  // The current version is required for the delete request.
  GetReply got = co_await session_->get(path, false);
  if (got.err != Error::Ok) co_return go_zk_error(got.err);
  Error removed = co_await session_->remove(path, got.stat.version);
  if (removed != Error::Ok) co_return go_zk_error(removed);
  co_return std::string();
}

Task<std::string> ZkTtlLock::expire_lock_ahead(const Entries& entries, int64_t id, bool& expired) {
  expired = false;
  if (ttl_ == Duration(0)) co_return std::string();
  std::optional<int64_t> ahead = entries.ahead(id);
  if (!ahead) co_return std::string(kExpireFailed) + std::string(kNoLockAhead);
  std::optional<std::string> ahead_path = entries.path(*ahead);
  if (!ahead_path) co_return std::string(kExpireFailed) + std::string(kNoLockPath);
  GetReply got = co_await session_->get(*ahead_path, false);
  if (got.err != Error::Ok) co_return std::string(kExpireFailed) + go_zk_error(got.err);
  Deadline deadline = parse_deadline(got.data);
  if (!deadline.error.empty()) co_return std::string(kExpireFailed) + deadline.error;
  // The deadline was written on the requester's clock and is read on the waiter's: with
  // skewed clocks a live holder is purged early (or a dead one late). Kept.
  if (env_.now() < deadline.at) co_return std::string();
  std::string removed = co_await delete_lock_znode(*ahead_path);
  if (!removed.empty()) co_return std::string(kExpireFailed) + removed;
  // The library clears the lock state of the PURGING instance (z), not of the holder it
  // purged: kept.
  lock_znode_.clear();
  owner_.reset();
  expired = true;
  co_return std::string();
}

Task<AcquireResult> ZkTtlLock::fail(std::string node, std::string why) {
  // The deferred cleanup on every failing return: get, then delete with that version,
  // once, errors ignored (a lost reply leaves the claim until the session ends).
  if (!node.empty()) co_await delete_lock_znode(node);
  co_return failure(std::move(why));
}

std::unique_ptr<Lock> make_zk_ttl(LockContext ctx) {
  return std::make_unique<ZkTtlLock>(std::move(ctx));
}

}  // namespace lockstep::locks
