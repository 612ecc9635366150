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

}  // namespace lockstep::locks
