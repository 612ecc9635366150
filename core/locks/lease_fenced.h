// lease-fenced: seed 004, scailio dlock (a Locker on a DynamoDB table), holes included.
//
// Mapping: the DynamoDB row of a lock is the persistent node at the lock path, holding
// {owner, until, token} (until = the client's clock + lease, absolute, in milliseconds
// as the library stores it); a conditional put or update is create, or get then set
// with that version; a conditional delete is get then remove with that version. Each
// store call is bounded by `call_timeout`; a call that times out or fails counts as
// failed although it may have been applied (the ambiguous case the library documents).
//
// TryLock (one attempt, no waiting): steal-until = now - max_clock_skew, until = now +
// lease (computed before the write). Without fencing: create the row, or take it over
// if its until <= steal-until. With fencing: read the row; if it has a token and until
// >= steal-until, the lock is taken; else token = old + 1 (1 if none) and the row is
// written only if it is unchanged since the read. The row is written whole, so a
// non-fencing locker's write drops the token and the next fencing locker starts again
// at 1 (mixing both on one lock resets the counter: kept). acquire() calls TryLock until
// its deadline, a fixed 50 ms apart (the library has no blocking Lock).
//
// Unlock: without fencing, delete the row if owner and until are still ours; with
// fencing, set its until to the epoch + 1 s instead, so the token survives. Errors are
// ignored (the library logs them).
//
// The Locker's heartbeat ticks every `heartbeat` from its creation: for the lock held,
// if it is already expired, unlock it (cleanup); else until = now + lease, written if
// owner and the old until are unchanged. Only a successful write advances the local
// lease; a failed or ambiguous one leaves it, so the lock expires locally.
// IsExpired() is local: unlocked, or the clock past the lease end. The warn signal
// fires at the last successful refresh (or the acquire) + `warn_after`.
//
// Lease::token is the fencing token when `fencing` is on (none otherwise); Lease::lost
// fires when IsExpired() becomes true: at the local lease end (or at Unlock).
//
// Options (the library's defaults): lease 1m, heartbeat 15s, warn_after 50s,
// max_clock_skew 10s, call_timeout 1s, fencing false (or "mixed": clients with an even
// index fence, odd ones do not, to search the two modes on one lock), owner (the
// Locker's owner name; default "client-<index>-<random hex>", one per Lock instance).
//
// DynamoDB has no sessions: the runtime gives this lock sessions that renew themselves
// after expiry (AlgorithmInfo::sessionless), so an expired ZooKeeper session does not fail
// every later call.
//
// Where the port has to choose: "the epoch" is a reading far before any clock of a run
// (processes' clocks here start near 0, not at Unix time); destroying the Lock closes
// its Locker without unlocking (Close() would unlock, but cannot be awaited from a
// destructor; the workload always releases first).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/lock.h"

namespace lockstep::locks {

// "Lock taken", with the library's cause where it gives one.
inline constexpr std::string_view kLeaseTaken = "Lock taken";
inline constexpr std::string_view kLeaseSameLocker =
    "Lock taken: Same Locker has acquired the lease of this lockId already.";

class LeaseFencedLock final : public Lock {
 public:
  // From the options; their defaults live in the catalogue entry.
  struct Settings {
    Duration lease{};
    Duration heartbeat{};
    Duration warn_after{};
    Duration max_clock_skew{};
    Duration call_timeout{};
    bool fencing = false;
    std::string owner;
  };

  explicit LeaseFencedLock(LockContext ctx);
  ~LeaseFencedLock() override;

  Task<AcquireResult> acquire(Time deadline) override;
  Task<ReleaseResult> release() override;

  // One TryLock: the lease on success, "Lock taken..." or a store error otherwise.
  Task<AcquireResult> try_lock();

  // The Lock object of the last grant, as the library's Lock interface shows it.
  bool is_expired() const;      // true also when nothing was ever granted
  Future<Unit> warned() const;  // set at the first warning of the last grant
  int warnings() const;         // messages its WarnChan would have carried
  std::optional<uint64_t> fencing_token() const;
  std::optional<Time> lease_until() const;  // the local lease end of the last grant


  struct State;  // shared with the heartbeat task (defined in the .cpp)

 private:
  Settings settings_;
  std::shared_ptr<State> state_;
};

std::unique_ptr<Lock> make_lease_fenced(LockContext ctx);

}  // namespace lockstep::locks
