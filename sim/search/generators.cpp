#include "sim/search/generators.h"

#include <algorithm>
#include <stdexcept>

#include "core/lock.h"
#include "sim/faults/draft.h"
#include "sim/faults/table.h"

namespace lockstep::sim {
void showValue(const Scenario& s, std::ostream& os) { os << scenario_to_json(s); }
}  // namespace lockstep::sim

namespace lockstep::sim::search {

namespace {

using namespace std::chrono_literals;
namespace gen = rc::gen;

struct Draft {
  std::vector<FaultDraft> faults;
  int clients = 2;
  int cycles = 1;
  int64_t hold_ms = 1;
  int64_t think_ms = 0;
  int timeout_index = 0;
  int64_t latency_min_us = 50;
  int64_t latency_spread_us = 0;
  uint64_t seed = 1;
};

constexpr int kMaxClients = draft::kMaxClients;
constexpr int kMaxCycles = 8;
// 1s needs a 500ms tick to be negotiable (sessions get 2..20 ticks); the tick is half the
// timeout for each choice, so the server grants exactly what the client asks.
const Duration kTimeouts[] = {1s, 2s, 4s};

// A fault kind drawn from the enabled ones, then that kind's parameters.
rc::Gen<FaultDraft> gen_any_fault(const std::vector<FaultKind>& kinds, int stores) {
  std::vector<rc::Gen<FaultDraft>> per_kind;
  for (FaultKind k : kinds)
    per_kind.push_back(fault_descriptor(k).gen(FaultDraft{.kind = k}, stores));
  return gen::mapcat(gen::inRange<size_t>(0, kinds.size()),
                     [per_kind](size_t i) { return per_kind[i]; });
}

Target to_target(const FaultDraft& d, int clients) {
  switch (d.role) {
    case FaultDraft::Role::Holder:
      return Target{Target::Kind::Holder, 0};
    case FaultDraft::Role::Waiter:
      return Target{Target::Kind::Waiter, 0};
    case FaultDraft::Role::Server:
      return Target{Target::Kind::Server, 0};
    case FaultDraft::Role::Index:
    case FaultDraft::Role::None:
      break;
  }
  return Target{Target::Kind::Index, std::min(d.index, clients - 1)};
}

Fault to_fault(const FaultDraft& d, int clients, Duration timeout, int stores) {
  Fault f;
  f.kind = d.kind;
  f.at = std::chrono::milliseconds(d.at_ms);
  if (d.role != FaultDraft::Role::None) f.target = to_target(d, clients);
  fault_descriptor(d.kind).from_draft(d, DraftScale{.timeout = timeout, .stores = stores}, f);
  return f;
}

Scenario to_scenario(const SearchSpace& space, int stores, const Draft& d) {
  Scenario s;
  s.algorithm = space.algorithm->name;
  s.options = space.options;
  s.seed = d.seed;
  s.clients = d.clients;
  s.session_timeout = kTimeouts[d.timeout_index];
  s.server.tick_time = s.session_timeout / 2;
  s.workload.cycles = d.cycles;
  s.workload.think = std::chrono::milliseconds(d.think_ms);
  // All the critical sections together fit in a quarter of the run, so a fault-free run
  // always finishes (the liveness checker then blames only the lock), and the rest of the
  // run leaves room to recover from faults. The acquire timeout outlasts everyone else's
  // holds: a fair lock never times out, so a timeout is the lock's fault.
  const int64_t sections = static_cast<int64_t>(d.clients) * d.cycles;
  const Duration per_section = space.duration / 4 / sections - s.workload.think;
  s.workload.hold = std::clamp<Duration>(
      std::chrono::milliseconds(d.hold_ms), 1ms,
      std::max<Duration>(1ms, std::chrono::floor<std::chrono::milliseconds>(per_section)));
  s.workload.acquire_timeout = space.duration / 2;
  s.network.latency.min = std::chrono::microseconds(d.latency_min_us);
  s.network.latency.max = std::chrono::microseconds(d.latency_min_us + d.latency_spread_us);
  s.resource.enabled = space.resource;
  s.resource.fenced = space.fenced;
  s.resource.separate_store = space.separate_resource;
  s.fencing = space.fencing;
  s.duration = space.duration;
  for (const FaultDraft& fd : d.faults) {
    Fault f = to_fault(fd, s.clients, s.session_timeout, stores);
    if (f.at < s.duration) s.faults.push_back(std::move(f));
  }
  return s;
}

}  // namespace

std::vector<FaultKind> supported_fault_kinds(const AlgorithmInfo& algorithm, int stores) {
  if (stores <= 0) stores = algorithm.stores;
  std::vector<FaultKind> out;
  for (const FaultDescriptor* d : fault_table())
    if (stores >= d->min_stores) out.push_back(d->kind);
  return out;
}

rc::Gen<Scenario> gen_scenario(const SearchSpace& space) {
  if (!space.algorithm)
    throw std::invalid_argument("gen_scenario: the search space has no algorithm");
  const AlgorithmInfo& info = *space.algorithm;
  const int stores = info.store_count(info.validate(space.options));

  // 0..max_faults faults, whatever the size: the container's length is drawn from the
  // size it is given, so it gets max_faults, and each fault the caller's size back.
  rc::Gen<std::vector<FaultDraft>> faults = gen::just(std::vector<FaultDraft>{});
  if (!space.fault_kinds.empty() && space.max_faults > 0) {
    const auto one = gen_any_fault(space.fault_kinds, stores);
    faults = gen::withSize([=](int size) {
      return gen::resize(space.max_faults,
                         gen::container<std::vector<FaultDraft>>(gen::resize(size, one)));
    });
    // A filter draws again until it holds, and drops the shrinks that break it. Only
    // when needed: it consumes randomness, and the unfiltered search stays as it was.
    if (space.min_faults > 0) {
      const size_t min = static_cast<size_t>(std::min(space.min_faults, space.max_faults));
      faults = gen::suchThat(faults,
                             [min](const std::vector<FaultDraft>& v) { return v.size() >= min; });
    }
  }

  // Members shrink in this order, and the search takes the first shrink that still fails:
  // faults go first (removed, then each made smaller), then clients, cycles and times.
  const auto draft = gen::build<Draft>(
      gen::set(&Draft::faults, faults), gen::set(&Draft::clients, gen::inRange(2, kMaxClients + 1)),
      gen::set(&Draft::cycles, gen::inRange(1, kMaxCycles + 1)),
      gen::set(&Draft::hold_ms,
               gen::oneOf(gen::inRange<int64_t>(1, 51), gen::inRange<int64_t>(50, 3001))),
      gen::set(&Draft::think_ms, gen::inRange<int64_t>(0, 101)),
      gen::set(&Draft::timeout_index, gen::inRange(0, 3)),
      gen::set(&Draft::latency_min_us, gen::inRange<int64_t>(50, 10001)),
      gen::set(&Draft::latency_spread_us,
               gen::oneOf(gen::inRange<int64_t>(0, 2001), gen::inRange<int64_t>(2000, 200001))),
      // The world's seed: drawn over the full range whatever the size, never shrunk (a
      // smaller seed is not a simpler scenario).
      gen::set(&Draft::seed, gen::noShrink(gen::resize(100, gen::inRange<uint64_t>(1, 1000000)))));
  return gen::map(draft, [space, stores](const Draft& d) { return to_scenario(space, stores, d); });
}

}  // namespace lockstep::sim::search
