// recipe: the ZooKeeper lock recipe done right, as Apache Curator's InterProcessMutex
// does it. A GUID-protected ephemeral sequential node (a create whose reply was lost is
// found again by its GUID), the true predecessor from the children list (listed again
// when it has already gone), session Suspended reported as "lock may be lost" and
// Expired as lost, a timed-out or failed waiter deletes its own node, and the fencing
// token is the lock node's czxid.
#pragma once

#include <memory>

#include "core/lock.h"

namespace lockstep::locks {

std::unique_ptr<Lock> make_recipe(LockContext ctx);

// What a waiter does when its predecessor's node goes. Relist is the recipe's (and
// Curator's): list the children again. Direct takes the lock at once when the waiter's
// last listing showed only that node below it and a request of its own was answered
// recently enough to vouch for its session (the catalogue's handoff=direct option).
enum class Handoff { Relist, Direct };
std::unique_ptr<Lock> make_recipe(LockContext ctx, Handoff handoff);

// How release deletes the lock node. Guaranteed is the recipe's: retried, then kept going
// in the background (Curator's guaranteed delete). The other two are the release of
// CURATOR-678 (curator_678.h): one try, giving up at the first ConnectionLoss, after which
// the node is forgotten (the bug) or kept deleting in the background (the fix).
enum class ReleaseDelete { Guaranteed, OneTryThenForget, OneTryThenBackground };
// The recipe with another release; everything else is the recipe's.
std::unique_ptr<Lock> make_recipe_releasing(LockContext ctx, ReleaseDelete release);

// Curator's client around the recipe, for CURATOR-604 (curator_604.h).
struct CuratorClient {
  // Curator's ConnectionStateManager gives a session up on the client's own clock once it
  // has been SUSPENDED for a whole session timeout (injectSessionExpiration:
  // Session::abandon), and its RetryLoop retries a call that failed with SessionExpired
  // (the CuratorFramework opens a new handle: the lock runs on a RenewingSession).
  bool gives_up_suspended_sessions = false;
  // The lock node counts only if its ephemeralOwner is the session now: a node found by
  // its GUID (CURATOR-498's check in protected mode) or kept from before a new session
  // is deleted and the create goes again.
  bool node_of_this_session_only = false;
};
std::unique_ptr<Lock> make_recipe_on_curator(LockContext ctx, CuratorClient client);

}  // namespace lockstep::locks
