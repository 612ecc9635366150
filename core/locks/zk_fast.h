// zk-fast: seed 000's FastDLock. Ephemeral sequential `request-` nodes under the lock
// path; the lowest holds; a waiter watches the node ahead of it. As the document says,
// it watches `request-<n-1>` literally and, when `exists` finds no such node, still waits
// for that watch (one for a creation that never comes): a waiter can hang until its
// deadline. zk-fast-pred is the variant that watches the true predecessor from the
// children list and lists again when it has gone. Neither has a fencing token nor
// reports session loss.
#pragma once

#include <memory>

#include "core/lock.h"

namespace lockstep::locks {

std::unique_ptr<Lock> make_zk_fast(LockContext ctx);
std::unique_ptr<Lock> make_zk_fast_pred(LockContext ctx);

}  // namespace lockstep::locks
