// clock: a process's (or the server's) clock drifts, jumps, or strobes back and forth.
// True time does not care; leases and timeouts read on that clock do.
#include <algorithm>
#include <cstdint>
#include <cstdio>

#include "core/prng.h"
#include "sim/faults/draft.h"
#include "sim/faults/fields.h"
#include "sim/faults/injector.h"

namespace lockstep::sim {

namespace {

using namespace std::chrono_literals;
using namespace scenario_json;

std::string note_drift(double ppm) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%+.0fppm", ppm);
  return buf;
}

std::string note_jump(Duration d) { return (d.count() >= 0 ? "+" : "") + format_duration(d); }

void read(const Obj& o, const FaultLimits& limits, Fault& f) {
  fields::read_client(o, limits, f, /*server_ok=*/true);
  int given = !!o.find("drift") + !!o.find("jump") + !!o.find("strobe");
  if (given != 1) fail(o.path(), "clock takes exactly one of \"drift\", \"jump\", \"strobe\"");
  if (const json* v = o.find("drift")) f.clock.drift_ppm = read_drift(*v, o.at("drift"));
  if (const json* v = o.find("jump")) f.clock.jump = read_signed_duration(*v, o.at("jump"));
  if (const json* v = o.find("strobe")) {
    Obj s(*v, o.at("strobe"));
    s.only({"swing", "period", "for"});
    for (std::string_view key : {"swing", "period", "for"})
      if (!s.find(key)) fail(s.path(), "\"" + std::string(key) + "\" is required");
    f.clock.strobe =
        ClockChange::Strobe{read_duration(*s.find("swing"), s.at("swing"), Sign::NonNegative),
                            read_duration(*s.find("period"), s.at("period"), Sign::Positive),
                            read_duration(*s.find("for"), s.at("for"), Sign::NonNegative)};
  }
  fields::read_store(o, limits, f);
  // With several stores, a server clock names its store; a client's clock has none.
  if (o.find("store") && !(f.target && f.target->kind == Target::Kind::Server))
    fail(o.at("store"), "only a \"server\" clock names a store");
}

void write(const Fault& f, ordered_json& j) {
  fields::put_client(f, j);
  fields::put_at(f, j);
  if (f.clock.drift_ppm) j["drift"] = format_drift(*f.clock.drift_ppm);
  if (f.clock.jump) j["jump"] = format_jump(*f.clock.jump);
  if (f.clock.strobe)
    j["strobe"] = ordered_json{{"swing", format_duration(f.clock.strobe->swing)},
                               {"period", format_duration(f.clock.strobe->period)},
                               {"for", format_duration(f.clock.strobe->length)}};
  if (f.target && f.target->kind == Target::Kind::Server) fields::put_store(f, j);
}

std::string describe(const Fault& f) {
  const std::string who = fields::target_text(f.target);
  char buf[64];
  if (f.clock.drift_ppm) {
    std::snprintf(buf, sizeof buf, "%+.0fppm", *f.clock.drift_ppm);
    return "clock of " + who + ": drift " + buf;
  }
  if (f.clock.jump) return "clock of " + who + ": jump " + fields::signed_duration(*f.clock.jump);
  if (f.clock.strobe)
    return "clock of " + who + ": strobe swing " + format_duration(f.clock.strobe->swing) +
           " every " + format_duration(f.clock.strobe->period) + " for " +
           format_duration(f.clock.strobe->length);
  return "clock of " + who;
}

void apply(FaultInjector& inj, const Fault& f, int client) {
  World& world = inj.world();
  // A server has two clocks (sim/zk/server.h): a step moves its wall clock only, a drift
  // (one oscillator under both) its process clock. A client has one clock.
  ZkServer* server = client == -2 ? &inj.store_server(f.store.value_or(0)) : nullptr;
  Process& p = server ? server->process() : inj.client(client);
  const int who = server ? -1 : client;
  auto step = [server, &p, &world](Duration by) {
    if (server) {
      server->step_wall_clock(by);
      return;
    }
    p.clock().jump(world.now(), by);
    p.clock_changed();
  };
  // A server's note names its store, and for a step the clock that moves.
  const std::string of_drift = server ? " (" + server->name() + ")" : "";
  const std::string of_step = server ? " (" + server->name() + "'s wall clock)" : "";
  const ClockChange& c = f.clock;
  if (c.drift_ppm) {
    p.clock().set_drift_ppm(world.now(), *c.drift_ppm);
    inj.note(who, "clock: drift " + note_drift(*c.drift_ppm) + of_drift);
  }
  if (c.jump) {
    step(*c.jump);
    inj.note(who, "clock: jump " + note_jump(*c.jump) + of_step);
  }
  if (c.strobe) {
    // Swings the clock forth and back every period, and leaves it where it started.
    const auto strobe = *c.strobe;
    inj.note(who, "clock: strobe swing " + format_duration(strobe.swing) + " period " +
                      format_duration(strobe.period) + " for " + format_duration(strobe.length) +
                      of_step);
    int64_t steps = strobe.period.count() > 0 ? strobe.length / strobe.period : 0;
    if (steps % 2 == 1) ++steps;
    // Scheduled up front, but only the swings the run can reach: none after its end, and
    // no more than the steps left in its budget (a run that would take them all stops at
    // the budget anyway). A nanosecond strobe for years is then a run refused at its
    // budget, not billions of events queued.
    if (world.now() > inj.run_end())
      steps = 0;
    else if (strobe.period.count() > 0)
      steps = std::min(steps, (inj.run_end() - world.now()) / strobe.period + 1);
    steps =
        static_cast<int64_t>(std::min<uint64_t>(static_cast<uint64_t>(steps), world.budget_left()));
    for (int64_t i = 0; i < steps; ++i) {
      Duration by = i % 2 == 0 ? strobe.swing : -strobe.swing;
      world.at(world.now() + strobe.period * i, [step, by] { step(by); });
    }
  }
  p.clock_changed();
}

void draw(NemesisDraw& d, Fault& f) {
  Prng& rng = d.rng;
  const Duration T = d.timeout;
  if (rng.chance(0.25))
    f.target = Target{Target::Kind::Server, 0};
  else
    f.target = d.pick_client(true);
  switch (rng.below(3)) {
    case 0: {
      double ppm = static_cast<double>(rng.below(50000) + 100);
      f.clock.drift_ppm = rng.chance(0.5) ? ppm : -ppm;
      break;
    }
    case 1: {
      Duration j = rng.between(100ms, T * 2);
      f.clock.jump = rng.chance(0.5) ? j : -j;
      break;
    }
    default:
      f.clock.strobe = ClockChange::Strobe{rng.between(10ms, T), rng.between(5ms, 200ms),
                                           rng.between(T / 4, T * 2)};
  }
}

rc::Gen<FaultDraft> gen(const FaultDraft& base, int stores) {
  namespace gen = rc::gen;
  using Role = FaultDraft::Role;
  const auto at = draft::at();
  const auto index = draft::index();
  const auto store = draft::store(stores);
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
                          draft::length(250, 2001));
    }
  });
}

void from_draft(const FaultDraft& d, const DraftScale& s, Fault& f) {
  // Only the server's clock belongs to a store; a client's names none.
  if (d.role == FaultDraft::Role::Server) f.store = s.store(d.store);
  if (d.variant == 0) {
    const int64_t ppm = d.negative ? -d.amount : d.amount;
    f.clock.drift_ppm = static_cast<double>(ppm);
  } else if (d.variant == 1) {
    f.clock.jump = d.negative ? -s.of_timeout(d.amount) : s.of_timeout(d.amount);
  } else {
    f.clock.strobe = ClockChange::Strobe{
        s.of_timeout(d.amount), std::chrono::milliseconds(d.period_ms), s.of_timeout(d.length_pm)};
  }
}

}  // namespace

const FaultDescriptor& clock_fault() {
  static const FaultDescriptor d = {
      .kind = FaultKind::Clock,
      .name = "clock",
      .keys = {"kind", "client", "at", "drift", "jump", "strobe", "store"},
      .required = {"client", "at"},
      .read = read,
      .write = write,
      .describe = describe,
      .apply = apply,
      .draw = draw,
      .gen = gen,
      .from_draft = from_draft,
      // A client's clock only (the server is a JVM of its own), and no strobe.
      .live = {.params = {LiveParam::Client, LiveParam::At, LiveParam::Change},
               .required = 3,
               .help = "the client's clock, by libfaketime: CHANGE a drift (+50%) or jump (-1s)",
               .zk_only = true,
               .usable = [](const Fault& f) { return !f.clock.strobe.has_value(); }},
  };
  return d;
}

}  // namespace lockstep::sim
