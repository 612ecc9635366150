// etcd-session: seed 002, src-d borges' `etcd:` lock service, whose Lock is the etcd
// v3.3.5 concurrency.Mutex; holes included.
//
// Mapping: the etcd lease is the Session (its TTL is the session timeout), a key's
// create-revision is the node's czxid. Lock: the key `<path>/<session id in hex>` is
// created (ephemeral) unless it exists, and an existing key is reused, so two lockers of
// one session share it: both "hold" the lock and the first Unlock frees both. The lowest
// czxid under the path holds; otherwise wait until no key with a czxid below ours is
// left (waitDeletes: the key with the greatest czxid below ours, watch its deletion,
// again). After the wait nothing checks that our own key still exists. If the timeout
// has fired when the wait ends, the key is deleted and Lock returns the wait's result:
// success, when the wait had succeeded just as the timeout fired. If the wait fails for
// another reason (the session gone), the key is left behind. Unlock deletes the key.
//
// The lost signal is the session's end (Session::ended, etcd's session.Done()): it fires
// only when the client learns the session has ended, possibly after another client
// already holds the lock. No fencing token (the key's czxid is offered for `--fencing`).
//
// The lease is not the connection: when the lease expires, etcd deletes the key, but the
// client's reads and its watch go on (the watch resumes from its revision). So the port
// runs on sessions that renew themselves (AlgorithmInfo::sessionless): the key dies with
// the session that made it, and the wait goes on on the next one. A waiter whose lease
// expired is then told it holds once the keys before it are gone, while its own key is
// gone too and another client may hold (Jepsen's etcd 3.4.3 analysis; etcd #11456, fixed
// in 3.4.4 by checking the lease after the wait; v3.3.5 does not).
//
// Options (the borges SessionConfig):
//   ttl      the lease TTL: rounded up to whole seconds, and 0 becomes etcd's 60 s
//            default. The runtime opens the sessions with it
//            (AlgorithmInfo::session_timeout; ZooKeeper then negotiates it into 2..20
//            ticks). Absent, the scenario's session timeout stands in for it.
//   timeout  the Lock timeout: below 1 s it becomes 1 s; 0 waits forever. When absent,
//            the caller's acquire deadline stands in for it (clamped the same way).
//
// Where the port has to choose: etcd's one-RPC transaction (create-if-absent plus "who
// is first") is a create (or get) plus a children listing and one exists per child, sent
// in parallel; the keys are listed after ours exists, so a key missing from the listing
// has a higher czxid than ours and cannot change the answer. Reads that meet
// ConnectionLoss are retried until the timeout, as etcd's client retries idempotent
// reads; the transaction and the delete are not. The key is named after the session id
// when Lock starts; an expired session is renewed first (by a read), so the name is the
// new lease's.
//
// What that costs, and why it is not one round trip: etcd answers "the key with the
// greatest create-revision below ours" (waitDeletes' Get with WithLastCreate and
// WithMaxCreateRev) and "the lowest" (getOwner) with one range request, sorted and cut to
// one key by the server. ZooKeeper has no such request: a listing gives names only, the
// names here are lease ids (nothing in them orders the keys), and the C client's multi
// takes no reads (its ops are create, delete, set and check). The port must
// run on a live ZooKeeper through the same Store, so the simulator charges what that
// store really does: a check with K keys under the path is K + 1 requests, in about two
// round trips of time (the reads are all in flight at once). A herd of N clients, one
// cycle each, then sends about N^2 requests in all where etcd would send a few per
// client, and the replies in flight at once take N^2 memory (docs/bench.md, "Herds to ten
// thousand").
#pragma once

#include <memory>

#include "core/lock.h"

namespace lockstep::locks {

// The lease TTL the options ask for, as the library hands it to etcd: whole seconds,
// rounded up; 0 (or absent) is etcd's default of 60 s.
Duration etcd_session_ttl(const OptionValues& options);

// ErrCanceled wrapping the context's error: what Lock returns when its timeout fires.
inline constexpr std::string_view kEtcdCanceled = "context canceled: context deadline exceeded";
// What etcd answers a put whose lease has expired.
inline constexpr std::string_view kEtcdLeaseNotFound = "etcdserver: requested lease not found";

std::unique_ptr<Lock> make_etcd_session(LockContext ctx);

}  // namespace lockstep::locks
