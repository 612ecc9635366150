// curator-604: Apache Curator's InterProcessMutex in protected mode on a client that gives
// a session up on its own clock, as in CURATOR-604, "Double locking issue while using
// InterProcessMutex lock code" (https://issues.apache.org/jira/browse/CURATOR-604,
// imported as https://github.com/apache/curator/issues/1121, open).
//
// The client: Curator's ConnectionStateManager, once the connection has been SUSPENDED
// for a whole session timeout of the client's own clock, injects a session expiration
// (ZooKeeper.getTestable().injectSessionExpiration(): the handle goes CLOSED, its watchers
// hear Expired, no closeSession goes to the server; here Session::abandon) and the
// CuratorFramework opens a new handle, a new session (here a RenewingSession). The server
// still holds the old session, and its ephemeral lock node, until it expires it on its
// own clock: ZooKeeper rounds an expiry up to the next tick, and a server that restarts
// from its snapshot starts every session's timeout again, so a client that is cut off
// can give up first. Curator's RetryLoop retries a call that failed with SessionExpired
// (or ConnectionLoss) on the new handle.
//
// The lock: `recipe` (Curator's InterProcessMutex: `_c_<GUID>-lock-` ephemeral sequential
// nodes, predecessor watch, czxid token, SUSPENDED and LOST reported as lost by the
// application's ConnectionStateListener). A create retried after ConnectionLoss or
// SessionExpired lists the children for its GUID (protected mode) and takes the node it
// finds; a waiter woken by its session's end lists the children again and goes on with
// the node it has.
//
// The bug (bug=true): neither looks at whose node it is. A node found by its GUID, or
// kept from before the new session, belongs to the session the client gave up; once the
// server expires that session the node goes, the next client in the queue gets the lock,
// and this one still believes it holds (its new session saw no trouble): mutual
// exclusion is broken. Curator's create path has checked the session since CURATOR-498
// (https://github.com/apache/curator/issues/1018, ProtectedMode.validateFoundNode); the
// lock loop of CURATOR-604 still does not. The fix (bug=false): the node counts only if
// its stat's ephemeralOwner is the session now; otherwise it is deleted (in the
// background, as validateFoundNode hands it to the FailedDeleteManager) and the create
// goes again, on the GUID path as CURATOR-498 does and in the lock loop as the report asks.
#pragma once

#include <memory>

#include "core/lock.h"

namespace lockstep::locks {

std::unique_ptr<Lock> make_curator_604(LockContext ctx);

}  // namespace lockstep::locks
