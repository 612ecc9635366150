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

// How release deletes the lock node. Guaranteed is the recipe's: retried, then kept going
// in the background (Curator's guaranteed delete). The other two are the release of
// CURATOR-678 (curator_678.h): one try, giving up at the first ConnectionLoss, after which
// the node is forgotten (the bug) or kept deleting in the background (the fix).
enum class ReleaseDelete { Guaranteed, OneTryThenForget, OneTryThenBackground };
// The recipe with another release; everything else is the recipe's.
std::unique_ptr<Lock> make_recipe_releasing(LockContext ctx, ReleaseDelete release);

}  // namespace lockstep::locks
