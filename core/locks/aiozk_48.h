// aiozk-48: the Lock recipe of aiozk (Python asyncio ZooKeeper client) before and after
// its PR #48, "Fix deadlock incurred by lock acquisition failure"
// (https://github.com/micro-fan/aiozk/pull/48, commit 65d0cc7, released in 0.21.0).
//
// The recipe: an ephemeral sequential node `lock-<guid>-NNNNNNNNNN` (one guid per Lock
// object, so a client's later acquires carry the same one); list the children, sort by
// sequence number; our position is the last child with our guid and label; the nodes
// ahead of it block us; wait for the deletion of the last blocker (exists with a watch,
// bounded by the lock's timeout); at the time limit delete our node and raise
// TimeoutError. A create that fails starts a background task that deletes our guid's
// other nodes once connected again. The lock is lost when the session is (LOST).
//
// The bug (bug=true): a suspension while acquiring makes the pending request fail, and
// the error leaves wait_in_line with our node still in place and known to nobody: the
// acquire fails, the session comes back, and the node stays at the head of the queue
// while the session lives. Every later acquire waits behind it, this client's too (its
// new node is behind its old one with the same guid). A wait that fails deletes our node
// and loops; if that delete fails too, the same. The fix (bug=false): on either failure,
// wait for the session to be connected again and go on with the same node.
//
// Mapping: the simulator's ConnectionLoss is aiozk's TimeoutError (the connection aborts
// pending requests with it when its read times out). aiozk opens a new session after
// LOST; here an ended session fails the acquire, and the application opens a new one, as
// the workload does. A watch cut off by the session's end wakes the waiter, which then
// finds the session gone.
#pragma once

#include <memory>

#include "core/lock.h"

namespace lockstep::locks {

std::unique_ptr<Lock> make_aiozk_48(LockContext ctx);

}  // namespace lockstep::locks
