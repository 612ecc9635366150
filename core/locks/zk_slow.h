// zk-slow: seed 000's SlowDLock. One ephemeral node is the lock; every waiter watches it,
// so a release wakes all of them and they race to create it again (the herd effect).
// No fencing token, and session loss is never reported to the holder.
#pragma once

#include <memory>

#include "core/lock.h"

namespace lockstep::locks {

std::unique_ptr<Lock> make_zk_slow(LockContext ctx);

}  // namespace lockstep::locks
