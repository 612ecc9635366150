// kazoo-170: kazoo's Lock recipe before and after its PR #170, "Fix Lock deadlock on
// CONNECTED->SUSPENDED->CONNECTED state change" (https://github.com/python-zk/kazoo/pull/170,
// commit 0937c79, 2014).
//
// The recipe (kazoo/recipe/lock.py): an ephemeral sequential node `<uuid>__lock__NNNNNNNNNN`
// (one uuid per Lock object); list the children sorted by the part after `__lock__`; the
// first holds; otherwise `exists(predecessor, watch)` and wait for the watch, at most the
// timeout, else LockTimeout. The whole attempt runs under KazooRetry (deadline = the
// timeout, 100 ms doubling delays plus up to 800 ms of jitter; ConnectionLoss,
// OperationTimeout, SessionExpired and ForceRetryError are retried); our node missing
// from the children is ForceRetryError, and a retry looks for our node by its uuid before
// creating one. A failed acquire deletes our node (best effort). KazooClient opens a new
// session after the old one expired (here: AlgorithmInfo::sessionless). No token, no
// lost signal.
//
// The bug (bug=true): a waiter whose session expires loses its node and, silently, its
// watch (KazooClient._reset_watchers drops every watcher without calling it): nothing
// wakes it, and it waits out its whole timeout while the lock is free. The fix
// (bug=false): while waiting, a connection state listener wakes the waiter at every state
// change, so it lists the children again, finds its node gone and retries.
#pragma once

#include <memory>

#include "core/lock.h"

namespace lockstep::locks {

std::unique_ptr<Lock> make_kazoo_170(LockContext ctx);

}  // namespace lockstep::locks
