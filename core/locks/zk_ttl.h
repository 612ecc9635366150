// zk-ttl: seed 001, DataDog kafka-kit's `cluster/zookeeper` ZooKeeperLock, holes included.
//
// Lock: a GUID-protected ephemeral sequential node `<path>/_c_<guid>-lock-N` (go-zk's
// CreateProtectedEphemeralSequential) whose data holds {timestamp, ttl_deadline =
// requester's clock at request + TTL, owner_id}; the deadline is never refreshed and the
// time spent queued counts against it. Then passes: children, the number after the last
// '-' of each name (junk names skipped), sorted; the lowest holds. Otherwise, with TTL >
// 0, read the node ahead and, if the WAITER's own clock is past the deadline written in
// it, delete it (a waiter purges a possibly live holder) and pass again; else data-watch
// the node ahead and wait for it or for the deadline ("attempt to acquire lock timed
// out"). Every pass after the first sleeps 50 ms; an error on the way (even the node ahead
// vanishing between listing and watch) is remembered and never reset, and after more
// than 5 passes with one remembered the call fails with the general locking failure.
// Every failing return deletes our node (get, then delete with that version, once).
//
// Owner key (option `owner`, the value the caller's context carries; empty = none): a
// second Lock by the same owner while this instance records it as holder gets
// "requestor already has an active lock"; Unlock by a different owner (or by an owner
// when the instance records none) gets "non-owner attempted to call unlock". Unlock =
// get then delete with that version, up to 3 tries 125 ms apart. A purge clears the
// PURGING instance's own record (holder node and owner), not the purged holder's: the
// library's bug, kept.
//
// No fencing token (the node's czxid and sequence number are offered for `--fencing`);
// session loss is never reported (Lease::lost is invalid).
//
// Options: `ttl` (the library's TTL: milliseconds as an integer, or a duration such as
// "10s"; 0, the default, disables TTLs) and `owner` (see above).
//
// Where the port has to choose: the metadata's times are this process's local clock in
// nanoseconds (JSON integers, where Go writes RFC 3339 wall-clock strings); the lock path
// is created on first use, as NewZooKeeperLock's init() does; ErrExpireLockFailed's text
// is not in the seed and is rendered "attempt to expire lock failed: <cause>".
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/lock.h"

namespace lockstep::locks {

// The library's error texts.
inline constexpr std::string_view kZkTtlAlreadyOwn = "requestor already has an active lock";
inline constexpr std::string_view kZkTtlTimedOut = "attempt to acquire lock timed out";
inline constexpr std::string_view kZkTtlInvalidSeqNode =
    "znode doesn't appear to be a sequential type";
inline constexpr std::string_view kZkTtlNotOwner = "non-owner attempted to call unlock";
inline constexpr std::string_view kZkTtlLockingFailed = "attempt to acquire lock failed: ";
inline constexpr std::string_view kZkTtlUnlockingFailed = "attempt to release lock failed: ";

// idFromZnode: the integer after the last '-' of a name or path (Go's strconv.Atoi: an
// optional sign, decimal digits, within int64); nullopt where the library returns
// ErrInvalidSeqNode.
std::optional<int64_t> zk_ttl_id_from_znode(std::string_view name);

class ZkTtlLock final : public Lock {
 public:
  explicit ZkTtlLock(LockContext ctx);

  // Lock / Unlock with the context's owner value taken from the `owner` option.
  Task<AcquireResult> acquire(Time deadline) override;
  Task<ReleaseResult> release() override;

  // Lock / Unlock with an explicit owner value in the context (nullopt: none), as
  // goroutines sharing one ZooKeeperLock would call them.
  Task<AcquireResult> acquire_as(std::optional<std::string> owner, Time deadline);
  Task<ReleaseResult> release_as(std::optional<std::string> owner);

  // Owner(): the owner recorded by the last grant (cleared by Unlock and by a purge).
  const std::optional<std::string>& owner() const { return owner_; }
  // The held node as this instance records it ("" when none).
  const std::string& lock_znode() const { return lock_znode_; }
  Duration ttl() const { return ttl_; }

 private:
  struct Entries;
  struct Created {
    std::string error;  // go-zk's text, empty on success
    std::string path;
    std::optional<int64_t> czxid;
  };
  Task<Created> create_protected(std::string data);
  Task<std::string> locks(Entries& out);
  Task<std::string> delete_lock_znode(std::string path);
  Task<std::string> expire_lock_ahead(const Entries& locks, int64_t id, bool& expired);
  Task<AcquireResult> fail(std::string node, std::string why);
  std::string metadata(const std::optional<std::string>& owner) const;

  Env& env_;
  std::shared_ptr<Session> session_;
  std::string path_;
  Duration ttl_;
  std::optional<std::string> default_owner_;
  bool initialized_ = false;  // the lock path exists (NewZooKeeperLock's init())
  std::string lock_znode_;
  std::optional<std::string> owner_;
};

std::unique_ptr<Lock> make_zk_ttl(LockContext ctx);

}  // namespace lockstep::locks
