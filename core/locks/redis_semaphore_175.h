// redis-semaphore-175: the Mutex of redis-semaphore (Node.js) before and after the fix of
// its issue #175, "Mutex silently reacquires lock when expired between refreshes"
// (https://github.com/swarthy/redis-semaphore/issues/175; fixed by PR #177,
// https://github.com/swarthy/redis-semaphore/pull/177, commit 3f70489, v5.3.1).
//
// The library: acquire is `SET key identifier PX lockTimeout NX`, tried every
// retryInterval (10 ms) until acquireTimeout (10 s); once acquired, a timer refreshes the
// lock every refreshInterval (0.8 x lockTimeout) with a Lua script; a refresh that
// returns 0 stops the timer, marks the mutex not acquired and calls onLockLost (here: the
// lease's lost signal). Release stops the timer and deletes the key if it still holds
// our identifier.
//
// The bug (bug=true): the refresh script, finding the key gone (expired: the refresh
// came late), SETs it again with our identifier and returns 1. Between the expiry and the
// late refresh another client may have acquired and released the lock; the first one
// never hears of it and goes on as if it had held the lock throughout. The fix
// (bug=false) deleted that branch: a key that is gone is a lost lock. Both versions let
// the two grants overlap (the key expired under the holder); the fix only tells the
// holder. So the port reports each refresh that the script answered with 1 as a renewal
// (Lease::renewals), and the "renewal" checker fails a renewal that succeeded after
// another client's grant (docs/check.md; docs/findings.md, Zoo).
//
// Mapping onto the store, as `redlock` does (core/locks/redlock.h): the key is the lock
// path; each SET that succeeds makes an incarnation, a persistent-sequential-with-TTL
// node `<path>/key-NNNNNNNNNN` holding the identifier; the key's value is the lowest such
// node's. SET NX creates a node and lists the children in the same round trip, and keeps
// the node only if it is the lowest. The scripts' GET is that listing plus a get; PEXPIRE
// is a set of the same value (it resets the node's mtime, from which the TTL runs); DEL is
// a remove with the version read. Redis has no sessions: AlgorithmInfo::sessionless. No
// fencing token (the incarnation's czxid is offered for `--fencing`).
#pragma once

#include <memory>

#include "core/lock.h"

namespace lockstep::locks {

std::unique_ptr<Lock> make_redis_semaphore_175(LockContext ctx);

}  // namespace lockstep::locks
