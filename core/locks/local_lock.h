// local: seed 002, src-d borges' `local:` lock service: an in-process lock per id (a Go
// channel holding one token), shared by every client of one OS process (live) or one
// simulated world through LockContext::shared. No store traffic at all.
//
// Lock takes the token or queues for it in arrival order (Go serves a channel's
// receivers first come, first served); a waiter whose timeout fires leaves the queue
// ("context canceled"). TTL is ignored ("local locks are never lost"). Unlock hands the
// token to the first waiter or puts it back; the lost signal is the locker's unlock
// channel, closed by Unlock and by nothing else. No fencing token.
//
// Options: `ttl` (accepted and ignored, as the library ignores it) and `timeout` (the
// session's Timeout, passed to the lock as it is: 0 blocks forever; borges clamps it to
// 1 s only for etcd). When `timeout` is absent the caller's acquire deadline stands in
// for it.
//
// Where the port has to choose: a simulated client that crashes while queued is skipped
// when the token is handed on (its goroutine would have died with the whole process); a
// holder that crashes keeps the token for good, as a goroutine that never unlocks would.
#pragma once

#include <memory>

#include "core/lock.h"

namespace lockstep::locks {

// The key of the service's table in the SharedRegistry.
inline constexpr const char* kLocalServiceKey = "locks/local:service";
// ErrCanceled's text: a Lock whose timeout fired.
inline constexpr std::string_view kLocalCanceled = "context canceled";

// Throws std::logic_error when ctx.shared is null: the service must be shared by the
// clients of one process, and without a registry there is nobody to share it with.
std::unique_ptr<Lock> make_local(LockContext ctx);

}  // namespace lockstep::locks
