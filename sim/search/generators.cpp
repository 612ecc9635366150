#include "sim/search/generators.h"

#include <algorithm>
#include <stdexcept>

#include "core/lock.h"

namespace lockstep::sim {
void showValue(const Scenario& s, std::ostream& os) { os << scenario_to_json(s); }
}  // namespace lockstep::sim

namespace lockstep::sim::search {

namespace {

using namespace std::chrono_literals;
namespace gen = rc::gen;

// Who a fault names. A draft keeps the role and a raw index; the index is clamped below
// the number of clients only when the scenario is built, so shrinking the clients never
// produces a fault that names a client that no longer exists.
enum class Role { Holder, Waiter, Index, Server, None };

// One fault before the scenario around it is known. Lengths are per mille of the session
// timeout, so "a pause longer than the session" stays one while the timeout shrinks.
struct FaultDraft {
  std::string kind;
  int64_t at_ms = 0;
  Role role = Role::None;
  int index = 0;
  int64_t length_pm = 0;  // "for" (pause, partition, stall, spikes) or restart_after
  int variant = 0;        // clock: drift/jump/strobe; partition: direction; drop_reply: op
  int64_t amount = 0;     // drift ppm; jump, swing or spike max in per mille of T; loss per mille
  bool negative = false;  // drift or jump backwards
  int64_t period_ms = 0;  // strobe period
  int store = 0;          // store_crash
  bool persist = true;    // store_crash
};

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

constexpr int kMaxClients = 8;
constexpr int kMaxCycles = 8;
// 1s needs a 500ms tick to be negotiable (sessions get 2..20 ticks); the tick is half the
// timeout for each choice, so the server grants exactly what the client asks.
const Duration kTimeouts[] = {1s, 2s, 4s};
const char* const kDirections[] = {"both", "to_server", "from_server"};
const char* const kDropOps[] = {"create", "delete"};

// When a fault strikes: mostly early, while the first holders still hold, sometimes
// anywhere in the first half minute (the workload of 8 clients x 8 cycles of long holds
// runs that long).
rc::Gen<int64_t> gen_at() {
  return gen::weightedOneOf<int64_t>({{3, gen::inRange<int64_t>(0, 1000)},
                                      {2, gen::inRange<int64_t>(0, 5000)},
                                      {1, gen::inRange<int64_t>(0, 30000)}});
}

// A span around the session timeout T: short (5%..66% of T, below the 2/3 T after which a
// client declares itself disconnected) or long (110%..300% of T, past expiry). Each
// shrinks toward the smallest of its kind, so a long pause stays longer than T.
rc::Gen<int64_t> gen_span_pm() {
  return gen::oneOf(gen::inRange<int64_t>(50, 660), gen::inRange<int64_t>(1100, 3001));
}

rc::Gen<Role> gen_client_role() { return gen::element(Role::Holder, Role::Waiter, Role::Index); }

rc::Gen<FaultDraft> gen_fault(const std::string& kind, int stores) {
  FaultDraft base;
  base.kind = kind;
  const auto just = gen::just(base);
  const auto at = gen::set(&FaultDraft::at_ms, gen_at());
  const auto index = gen::set(&FaultDraft::index, gen::inRange(0, kMaxClients));
  const auto client = gen::set(&FaultDraft::role, gen_client_role());
  // Spikes, loss and duplication hit one client's connection or all of them.
  const auto client_or_all = gen::set(&FaultDraft::role, gen::element(Role::Index, Role::None));

  // With several stores, a server-side fault names the store it hits.
  const auto store = gen::set(&FaultDraft::store, gen::inRange(0, std::max(1, stores)));
  if (kind == "pause")
    return gen::build(just, at, client, index, gen::set(&FaultDraft::length_pm, gen_span_pm()));
  if (kind == "server_stall")
    return gen::build(just, at, gen::set(&FaultDraft::length_pm, gen_span_pm()), store);
  if (kind == "partition")
    return gen::build(just, at, client, index, gen::set(&FaultDraft::length_pm, gen_span_pm()),
                      gen::set(&FaultDraft::variant, gen::element(0, 1, 2)));
  if (kind == "crash")  // always restarted: a crash for good only stops the workload
    return gen::build(just, at, client, index,
                      gen::set(&FaultDraft::length_pm, gen::inRange<int64_t>(250, 2001)));
  if (kind == "drop_reply")  // the lost create (a lock node nobody knows it owns), the lost delete
    return gen::build(just, at, client, index, gen::set(&FaultDraft::variant, gen::element(0, 1)));
  if (kind == "expire_session") return gen::build(just, at, client, index);
  if (kind == "latency")
    return gen::build(just, at, client_or_all, index,
                      gen::set(&FaultDraft::length_pm, gen::inRange<int64_t>(100, 2001)),
                      gen::set(&FaultDraft::amount, gen::inRange<int64_t>(5, 1001)));
  if (kind == "loss" || kind == "duplicate")
    return gen::build(just, at, client_or_all, index,
                      gen::set(&FaultDraft::length_pm, gen::inRange<int64_t>(100, 1001)),
                      gen::set(&FaultDraft::amount, gen::inRange<int64_t>(1, 201)));
  if (kind == "store_crash")
    return gen::build(just, at, store,
                      gen::set(&FaultDraft::length_pm, gen::inRange<int64_t>(250, 2001)),
                      gen::set(&FaultDraft::persist, gen::element(true, false)));
  if (kind == "clock") {
    const auto who = gen::set(&FaultDraft::role,
                              gen::element(Role::Holder, Role::Waiter, Role::Index, Role::Server));
    const auto sign = gen::set(&FaultDraft::negative, gen::element(false, true));
    return gen::mapcat(gen::element(0, 1, 2), [=](int variant) {
      FaultDraft b = base;
      b.variant = variant;
      const auto j = gen::just(b);
      switch (variant) {
        case 0:  // drift: small (100ppm..1%) or large (1%..30%). A drift lasts for the rest
                 // of the run, so it stays where a session can survive it (a clock at 30% of
                 // true speed misses every ping): the liveness after the quiet phase means
                 // something only then.
          return gen::build(
              j, at, who, index, sign, store,
              gen::set(&FaultDraft::amount, gen::oneOf(gen::inRange<int64_t>(100, 10001),
                                                       gen::inRange<int64_t>(10000, 300001))));
        case 1:  // jump forward or back, 10%..300% of T
          return gen::build(j, at, who, index, sign, store,
                            gen::set(&FaultDraft::amount, gen::inRange<int64_t>(100, 3001)));
        default:  // strobe: swings of up to T every few ms, for a while
          return gen::build(j, at, who, index, store,
                            gen::set(&FaultDraft::amount, gen::inRange<int64_t>(10, 1001)),
                            gen::set(&FaultDraft::period_ms, gen::inRange<int64_t>(5, 201)),
                            gen::set(&FaultDraft::length_pm, gen::inRange<int64_t>(250, 2001)));
      }
    });
  }
  throw std::invalid_argument("unknown fault kind \"" + kind + "\"");
}

// A fault kind drawn from the enabled ones, then that kind's parameters.
rc::Gen<FaultDraft> gen_any_fault(const std::vector<std::string>& kinds, int stores) {
  std::vector<rc::Gen<FaultDraft>> per_kind;
  for (const auto& k : kinds) per_kind.push_back(gen_fault(k, stores));
  return gen::mapcat(gen::inRange<size_t>(0, kinds.size()),
                     [per_kind](size_t i) { return per_kind[i]; });
}

Target to_target(const FaultDraft& d, int clients) {
  switch (d.role) {
    case Role::Holder:
      return Target{Target::Kind::Holder, 0};
    case Role::Waiter:
      return Target{Target::Kind::Waiter, 0};
    case Role::Server:
      return Target{Target::Kind::Server, 0};
    case Role::Index:
    case Role::None:
      break;
  }
  return Target{Target::Kind::Index, std::min(d.index, clients - 1)};
}

Fault to_fault(const FaultDraft& d, int clients, Duration timeout, int stores) {
  // The timeout is whole milliseconds, so per mille of it is a whole number of microseconds.
  const auto of_timeout = [&](int64_t pm) { return timeout / 1000 * pm; };
  Fault f;
  f.kind = d.kind;
  f.at = std::chrono::milliseconds(d.at_ms);
  if (d.role != Role::None) f.target = to_target(d, clients);
  if (d.kind == "pause" || d.kind == "partition") {
    f.length = of_timeout(d.length_pm);
    if (d.kind == "partition") f.direction = kDirections[d.variant];
  } else if (d.kind == "crash") {
    f.restart_after = of_timeout(d.length_pm);
  } else if (d.kind == "drop_reply") {
    f.op = kDropOps[d.variant];
  } else if (d.kind == "latency") {
    f.length = of_timeout(d.length_pm);
    f.latency.min = 1ms;
    f.latency.max = std::max<Duration>(1ms, of_timeout(d.amount));
  } else if (d.kind == "loss" || d.kind == "duplicate") {
    f.length = of_timeout(d.length_pm);
    f.probability = static_cast<double>(d.amount) / 1000.0;
  } else if (d.kind == "server_stall") {
    f.length = of_timeout(d.length_pm);
    f.store = std::min(d.store, std::max(1, stores) - 1);
  } else if (d.kind == "store_crash") {
    f.store = std::min(d.store, std::max(1, stores) - 1);
    f.restart_after = of_timeout(d.length_pm);
    f.persist = d.persist;
  } else if (d.kind == "clock") {
    // Only the server's clock belongs to a store; a client's names none.
    if (d.role == Role::Server) f.store = std::min(d.store, std::max(1, stores) - 1);
    if (d.variant == 0) {
      const int64_t ppm = d.negative ? -d.amount : d.amount;
      f.clock.drift_ppm = static_cast<double>(ppm);
    } else if (d.variant == 1) {
      f.clock.jump = d.negative ? -of_timeout(d.amount) : of_timeout(d.amount);
    } else {
      f.clock.strobe = ClockChange::Strobe{
          of_timeout(d.amount), std::chrono::milliseconds(d.period_ms), of_timeout(d.length_pm)};
    }
  }
  return f;
}

Scenario to_scenario(const SearchSpace& space, int stores, const Draft& d) {
  Scenario s;
  s.algorithm = space.algorithm;
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

std::vector<std::string> supported_fault_kinds(const std::string& algorithm, int stores) {
  if (stores <= 0) stores = resolve_algorithm(algorithm).stores;
  std::vector<std::string> out;
  for (const auto& k : fault_kinds())
    if (k != "store_crash" || stores > 1) out.push_back(k);
  return out;
}

rc::Gen<Scenario> gen_scenario(const SearchSpace& space) {
  const AlgorithmInfo& info = resolve_algorithm(space.algorithm);  // or UnknownAlgorithm
  const int stores = info.store_count(info.validate(space.options));
  for (const auto& k : space.fault_kinds) {
    const auto& known = fault_kinds();
    if (std::find(known.begin(), known.end(), k) == known.end())
      throw std::invalid_argument("unknown fault kind \"" + k + "\"");
  }

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
