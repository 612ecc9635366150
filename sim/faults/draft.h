// The parts of a search draft (FaultDraft) that several fault kinds draw alike, as
// RapidCheck setters for gen::build. A kind's `gen` builds its draft from these and its
// own. Each consumes randomness in a fixed way: reordering the setters of a kind, or
// changing one, draws other scenarios for the same seeds (and another safety matrix).
#pragma once

#include <rapidcheck.h>

#include <algorithm>
#include <cstdint>

#include "sim/faults/descriptor.h"

namespace lockstep::sim::draft {

namespace gen = rc::gen;
using Role = FaultDraft::Role;

inline constexpr int kMaxClients = 8;  // the search's most clients (sim/search/generators.cpp)

// When a fault strikes: mostly early, while the first holders still hold, sometimes
// anywhere in the first half minute (the workload of 8 clients x 8 cycles of long holds
// runs that long).
inline rc::Gen<int64_t> gen_at() {
  return gen::weightedOneOf<int64_t>({{3, gen::inRange<int64_t>(0, 1000)},
                                      {2, gen::inRange<int64_t>(0, 5000)},
                                      {1, gen::inRange<int64_t>(0, 30000)}});
}

// A span around the session timeout T: short (5%..66% of T, below the 2/3 T after which a
// client declares itself disconnected) or long (110%..300% of T, past expiry). Each
// shrinks toward the smallest of its kind, so a long pause stays longer than T.
inline rc::Gen<int64_t> gen_span_pm() {
  return gen::oneOf(gen::inRange<int64_t>(50, 660), gen::inRange<int64_t>(1100, 3001));
}

inline auto just(const FaultDraft& base) { return gen::just(base); }
inline auto at() { return gen::set(&FaultDraft::at_ms, gen_at()); }
inline auto index() { return gen::set(&FaultDraft::index, gen::inRange(0, kMaxClients)); }
// A client by index, the holder or a waiter.
inline auto client() {
  return gen::set(&FaultDraft::role, gen::element(Role::Holder, Role::Waiter, Role::Index));
}
// One client's connection or all of them (spikes, loss, duplication).
inline auto client_or_all() {
  return gen::set(&FaultDraft::role, gen::element(Role::Index, Role::None));
}
// With several stores, a server-side fault names the store it hits.
inline auto store(int stores) {
  return gen::set(&FaultDraft::store, gen::inRange(0, std::max(1, stores)));
}
inline auto span() { return gen::set(&FaultDraft::length_pm, gen_span_pm()); }
inline auto length(int64_t lo_pm, int64_t hi_pm) {
  return gen::set(&FaultDraft::length_pm, gen::inRange<int64_t>(lo_pm, hi_pm));
}

}  // namespace lockstep::sim::draft
