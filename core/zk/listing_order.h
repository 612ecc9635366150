// The order a ZooKeeper server lists a node's children in. ZooKeeper keeps them in a Java
// HashSet and returns them in its iteration order, which is not name order: a lock that
// takes the first name as the lowest without sorting works on a sorted listing and breaks
// on a real server. Both stores built on the data tree (the simulated server and local:)
// hand out their listings shuffled, so such a lock fails there too.
//
// A listing is made in two steps so that a herd does not cost N^2 memory: the store draws
// the shuffle when it replies (so the draws come in reply order, as they always did) but
// keeps only the generator's state and a shared, immutable snapshot of the names; the
// reader makes its N strings when it reads the reply. N replies in flight at once share
// one snapshot while the children do not change, instead of holding N names each, and
// snapshots of children that did change share all but the chunk that changed.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/prng.h"
#include "core/zk/name_list.h"

namespace lockstep {

// A node's children, sorted by name, as they were at one moment. Never changed once made:
// the data tree makes a new one when the children change (sharing the unchanged chunks,
// core/zk/name_list.h), and every listing in between shares it.
using ChildList = std::shared_ptr<const NameList>;

// Fisher-Yates, from the last place down, with draws from `order`.
inline void shuffle_listing(std::vector<std::string>& names, Prng& order) {
  for (size_t i = names.size(); i > 1; --i) std::swap(names[i - 1], names[order.below(i)]);
}

// A shuffled listing not yet made: the names and the generator as it was before the draws.
struct DeferredListing {
  ChildList names;
  Prng order{0};

  // The names in the order shuffle_listing gives them with the same draws. Const and
  // repeatable: a duplicated reply reads the same listing twice.
  std::vector<std::string> make() const {
    if (!names) return {};
    std::vector<std::string> out = names->to_vector();
    Prng draws = order;
    shuffle_listing(out, draws);
    return out;
  }
  size_t size() const { return names ? names->size() : 0; }
};

// Takes the draws of a shuffle of `names` from `order` now (advancing it exactly as
// shuffle_listing would) and leaves the strings to DeferredListing::make.
inline DeferredListing defer_shuffle(ChildList names, Prng& order) {
  DeferredListing d{.names = std::move(names), .order = order};
  for (size_t i = d.size(); i > 1; --i) order.below(i);
  return d;
}

}  // namespace lockstep
