// redlock: seed 003, golaxy dsync's distributed mutex (go-redsync's Redlock), holes
// included.
//
// Mapping: each of the N sessions in LockContext::sessions is one independent Redis
// server (N = 1 in the library, as deployed under the seed; the scenario's `stores`
// option sets N). `SET key value NX PX expiry` is a create of a persistent-with-TTL node
// at the lock path (a TTL node expires on its server's clock, from its mtime); the Lua
// compare-and-delete is get, compare the value, remove with that version; the Lua
// compare-and-PEXPIRE is get, compare, set the same value with that version (a set
// resets the mtime, so the expiry starts again). A TTL create cannot go in a multi.
//
// Lock: a value per Lock (the `value` option, else a fresh random one); up to `tries`
// tries, `retry_delay_min`..`retry_delay_max` (uniform) apart, each: start = now; the
// create on every store at once, each bounded by expiry x timeout_factor; until = now +
// expiry - (now - start) - expiry x drift_factor; held if at least N/2+1 creates
// succeeded and now < until; otherwise compare-and-delete on every store and try again.
// Unlock: compare-and-delete on every store; fewer than N/2+1 deletions is "dsync: lock
// is not acquired". Extend: compare-and-reset-expiry on every store, then until is
// computed again (the same error below a quorum, or if the time has run out). Valid:
// the value is still stored on a quorum. Until: the computed validity end, on the
// client's clock. Nothing watches the keys expire: Lease::lost is invalid, as the
// library never says; no fencing token (with N = 1 the key's czxid is offered for
// `--fencing`).
//
// Options (defaults of the seed): expiry 3s, tries 15, retry_delay_min 10ms,
// retry_delay_max 150ms, drift_factor 0.01, timeout_factor 0.10, value "" (random per
// Lock), stores 1.
//
// Where the port has to choose: ZooKeeper purges an expired TTL node at its check
// interval, where Redis would stop answering for the key at once, so a key may outlive
// its expiry by up to that interval; a create that meets a missing parent makes the
// parent first (Redis keys have none). The last try's store errors are returned as
// they are (go-redsync returns them instead of ErrFailed); otherwise a failed Lock is
// "dsync: failed to acquire lock".
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/lock.h"

namespace lockstep::locks {

inline constexpr std::string_view kRedlockNotAcquired = "dsync: lock is not acquired";
inline constexpr std::string_view kRedlockFailed = "dsync: failed to acquire lock";

class RedlockLock final : public Lock {
 public:
  explicit RedlockLock(LockContext ctx);

  // Lock and Unlock.
  Task<AcquireResult> acquire(Time deadline) override;
  Task<ReleaseResult> release() override;

  // Extend: reset the key's expiry on every store holding our value; recompute until.
  Task<ReleaseResult> extend();
  // Valid: our value is still stored on a quorum of stores.
  Task<bool> valid();
  // Until: the validity end computed by the last Lock or Extend (local clock); zero
  // before the first Lock.
  Time until() const { return until_; }
  // Value: the value of the last Lock (or the `value` option).
  const std::string& value() const { return value_; }
  int quorum() const { return static_cast<int>(sessions_.size()) / 2 + 1; }
  size_t stores() const { return sessions_.size(); }

  struct Settings {
    Duration expiry = std::chrono::seconds(3);
    int tries = 15;
    Duration retry_delay_min = std::chrono::milliseconds(10);
    Duration retry_delay_max = std::chrono::milliseconds(150);
    double drift_factor = 0.01;
    double timeout_factor = 0.10;
    std::string value;  // empty: a random value per Lock
  };
  const Settings& settings() const { return settings_; }

 private:
  struct Tally {
    int ok = 0;
    std::string errors;  // go-multierror's list, "; "-joined
    int64_t czxid = 0;   // of the last successful create (for N = 1)
  };
  enum class Op { Acquire, Release, Touch, Read };
  // One store's answer: `ok` if the op took effect; `error` for a store error (not for
  // "the key holds another value").
  struct StoreAnswer {
    bool ok = false;
    std::string error;
    int64_t czxid = 0;
  };
  // One store's part of an op (SET NX PX, compare-and-delete, compare-and-PEXPIRE, GET).
  static Task<StoreAnswer> store_op(Op op, Env& env, std::shared_ptr<Session> session,
                                    std::string key, std::string value, Duration expiry);

  // Runs `op` with `value` on every store at once and counts the successes; with a
  // `bound`, each store's call counts as failed if it has not answered by then.
  Task<Tally> on_all_stores(Op op, std::string value, std::optional<Time> bound);
  Duration scaled(double factor) const;

  Env& env_;
  std::vector<std::shared_ptr<Session>> sessions_;
  std::string key_;
  Settings settings_;
  std::string value_;
  Time until_{0};
};

std::unique_ptr<Lock> make_redlock(LockContext ctx);

}  // namespace lockstep::locks
