// The order a ZooKeeper server lists a node's children in. ZooKeeper keeps them in a Java
// HashSet and returns them in its iteration order, which is not name order: a lock that
// takes the first name as the lowest without sorting works on a sorted listing and breaks
// on a real server. Both stores built on the data tree (the simulated server and local:)
// hand out their listings shuffled, so such a lock fails there too.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/prng.h"

namespace lockstep {

// Fisher-Yates, from the last place down, with draws from `order`.
inline void shuffle_listing(std::vector<std::string>& names, Prng& order) {
  for (size_t i = names.size(); i > 1; --i) std::swap(names[i - 1], names[order.below(i)]);
}

}  // namespace lockstep
