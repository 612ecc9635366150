// The catalogue of algorithms by their CLI names, in the order tables and searches use.
#include "core/lock.h"
#include "core/locks/recipe.h"
#include "core/locks/zk_fast.h"
#include "core/locks/zk_slow.h"

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
