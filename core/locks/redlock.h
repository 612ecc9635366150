// redlock: seed 003, golaxy dsync's distributed mutex (go-redsync's Redlock), holes
// included.
//
// Mapping: each of the N sessions in LockContext::sessions is one independent Redis
// server (N = 1 in the library, as deployed under the seed; the scenario's `stores`
// option sets N). The key is the lock path; each `SET key value NX PX expiry` that
// succeeds makes one incarnation of it, a persistent-sequential-with-TTL node
// `<path>/key-NNNNNNNNNN` holding the value (a TTL node expires on its server's clock,
// from its mtime). The key's value is the lowest such node's: a SET creates its node and
// lists the children in the same round trip (one connection is answered in order), and
// keeps its node only if it is the lowest, else deletes it ("NX" said no). The Lua
// compare-and-delete is get, compare the value, remove that node; the compare-and-
// PEXPIRE is get, compare, set the same value (a set resets the mtime). ZooKeeper cannot
// compare a value atomically, and a key created again at a fixed path would have
// version 0 again, so get + remove(version) could delete another client's new key; a
// node name is never reused, which makes the scripts' "only if it is still mine" exact.
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
// parent first (Redis keys have none). Each store call of a try is bounded as
// go-redsync's context bounds it: a SET, and any parent it needs, is sent only before
// the try's bound (expiry x timeout_factor) on a connected session, and nothing retries
// it, so no SET leaves after Lock has returned. The last try's store errors are returned as
// they are (go-redsync returns them instead of ErrFailed); otherwise a failed Lock is
// "dsync: failed to acquire lock". A SET that loses deletes its node a round trip later;
// a SET from a third client in between sees that node as the key and fails where Redis
// would have succeeded (a spurious "NX said no", never a second holder). If that delete
// never comes (the client crashed or lost its connection), the node stays until its TTL
// and acts as the key once the real one is gone (docs/findings.md, L10). Redis has no
// sessions: the runtime gives this lock sessions that renew themselves after expiry
// (AlgorithmInfo::sessionless).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/lock.h"

namespace lockstep::locks {

inline constexpr std::string_view kRedlockNotAcquired = "dsync: lock is not acquired";
inline constexpr std::string_view kRedlockFailed = "dsync: failed to acquire lock";
// The name of a key's incarnations, below the lock path (a sequence number follows).
inline constexpr std::string_view kIncarnationPrefix = "key-";

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

  // From the options; their defaults live in the catalogue entry.
  struct Settings {
    Duration expiry{};
    int tries = 0;
    Duration retry_delay_min{};
    Duration retry_delay_max{};
    double drift_factor = 0;
    double timeout_factor = 0;
    std::string value;  // empty: a random value per Lock
  };

 private:
  struct Tally {
    int ok = 0;
    std::string errors;              // go-multierror's list, "; "-joined
    int64_t czxid = 0;               // of the last successful create (for N = 1)
    std::vector<std::string> nodes;  // per store: the incarnation this op made, if any
  };
  enum class Op { Acquire, Release, Touch, Read };
  // One store's answer: `ok` if the op took effect; `error` for a store error (not for
  // "the key holds another value").
  struct StoreAnswer {
    bool ok = false;
    std::string error;
    int64_t czxid = 0;
    std::string node;  // Acquire: the incarnation made
  };
  // One store's part of an op (SET NX PX, compare-and-delete, compare-and-PEXPIRE, GET).
  // `known`: the incarnation this Lock made on that store, if it did (else the current
  // one is looked up). A SET is sent only before `bound` (the try's context).
  static Task<StoreAnswer> store_op(Op op, Env& env, std::shared_ptr<Session> session,
                                    std::string key, std::string value, Duration expiry,
                                    std::string known, std::optional<Time> bound);

  // Runs `op` with `value` on every store at once and counts the successes; with a
  // `bound`, each store's call counts as failed if it has not answered by then.
  Task<Tally> on_all_stores(Op op, std::string value, std::optional<Time> bound,
                            std::vector<std::string> known);
  Duration scaled(double factor) const;

  Env& env_;
  std::vector<std::shared_ptr<Session>> sessions_;
  std::string key_;
  Settings settings_;
  std::string value_;
  std::vector<std::string> nodes_;  // per store: the incarnation the last Lock made
  Time until_{0};
};

std::unique_ptr<Lock> make_redlock(LockContext ctx);

}  // namespace lockstep::locks
