// The catalogue of algorithms by their CLI names, in the order tables and searches use.
#include "core/lock.h"
#include "core/locks/etcd_session.h"
#include "core/locks/lease_fenced.h"
#include "core/locks/local_lock.h"
#include "core/locks/recipe.h"
#include "core/locks/redlock.h"
#include "core/locks/zk_fast.h"
#include "core/locks/zk_slow.h"
#include "core/locks/zk_ttl.h"

namespace lockstep {

const std::vector<AlgorithmInfo>& algorithms() {
  static const std::vector<AlgorithmInfo> catalogue = [] {
    std::vector<AlgorithmInfo> all;
    all.push_back({"zk-slow",
                   "seed 000 SlowDLock: one ephemeral node, every waiter watches it (herd "
                   "effect); no token, no lost signal",
                   {},
                   1,
                   false,
                   locks::make_zk_slow});
    all.push_back({"zk-fast",
                   "seed 000 FastDLock as documented: ephemeral sequential nodes, watch "
                   "request-(n-1) literally (a waiter can hang); no token, no lost signal",
                   {},
                   1,
                   false,
                   locks::make_zk_fast});
    all.push_back({"zk-fast-pred",
                   "zk-fast watching the true predecessor from the children list, listing "
                   "again when it has gone; no token, no lost signal",
                   {},
                   1,
                   false,
                   locks::make_zk_fast_pred});
    all.push_back({"recipe",
                   "the ZooKeeper recipe done right (Curator InterProcessMutex): "
                   "GUID-protected sequential node, predecessor watch, Suspended/Expired "
                   "signalled as lost, czxid fencing token",
                   {},
                   1,
                   true,
                   locks::make_recipe});
    all.push_back({"zk-ttl",
                   "seed 001 kafka-kit: GUID-protected sequential nodes with a TTL deadline "
                   "in the node, waiters purge expired holders by their own clock, owner "
                   "key, 50 ms passes, a never-reset error counter; no token, no lost signal",
                   {"ttl", "owner"},
                   1,
                   false,
                   locks::make_zk_ttl});
    all.push_back({"etcd-session",
                   "seed 002 borges on the etcd v3.3.5 mutex: a key per session, lowest "
                   "create-revision holds, wait for the key just before; lost = the "
                   "session's end; no token (its session timeout should be the ttl)",
                   {"ttl", "timeout"},
                   1,
                   false,
                   locks::make_etcd_session});
    all.push_back({"local",
                   "seed 002 borges local: an in-process lock per id shared by the clients "
                   "of one process (or simulated world), FIFO waiters, no store traffic",
                   {"ttl", "timeout"},
                   1,
                   false,
                   locks::make_local});
    all.push_back({"redlock",
                   "seed 003 dsync/go-redsync: SET NX PX on N independent stores, quorum, "
                   "validity = expiry - elapsed - drift, tries with random delays; extend, "
                   "valid; no token, no lost signal",
                   {"expiry", "tries", "retry_delay_min", "retry_delay_max", "drift_factor",
                    "timeout_factor", "value", "stores"},
                   1,
                   false,
                   locks::make_redlock});
    all.back().sessionless = true;  // Redis: a client reconnects and goes on
    all.push_back(
        {"lease-fenced",
         "seed 004 scailio dlock: a lease row with an absolute expiry on the "
         "client's clock, heartbeats, steal after max clock skew, warn signal, "
         "lost at the local lease end; fencing token counter with fencing=true",
         {"lease", "heartbeat", "warn_after", "max_clock_skew", "call_timeout", "fencing", "owner"},
         1,
         false,
         locks::make_lease_fenced});
    all.back().sessionless = true;  // DynamoDB: every call is a request of its own
    return all;
  }();
  return catalogue;
}

const AlgorithmInfo* find_algorithm(const std::string& name) {
  for (const auto& a : algorithms())
    if (a.name == name) return &a;
  return nullptr;
}

}  // namespace lockstep
