// latency: a spike: every message (of one client, or everyone's) takes an extra delay
// drawn from min..max for a while.
#include <algorithm>

#include "core/prng.h"
#include "sim/faults/draft.h"
#include "sim/faults/fields.h"
#include "sim/faults/injector.h"

namespace lockstep::sim {

using namespace std::chrono_literals;

const FaultDescriptor& latency_fault() {
  static const FaultDescriptor d = {
      .kind = FaultKind::Latency,
      .name = "latency",
      .keys = {"kind", "at", "for", "min", "max", "client", "store"},
      .required = {"at", "for", "min", "max"},
      .read =
          [](const scenario_json::Obj& o, const FaultLimits& limits, Fault& f) {
            fields::read_client(o, limits, f);
            fields::read_for(o, f);
            f.latency = scenario_json::read_range(o, f.latency);
            fields::read_store(o, limits, f);
          },
      .write =
          [](const Fault& f, nlohmann::ordered_json& j) {
            fields::put_at(f, j);
            fields::put_for(f, j);
            j["min"] = format_duration(f.latency.min);
            j["max"] = format_duration(f.latency.max);
            fields::put_client(f, j);
            fields::put_store(f, j);
          },
      .describe =
          [](const Fault& f) {
            return "latency " + format_duration(f.latency.min) + ".." +
                   format_duration(f.latency.max) + " on " + fields::target_text(f.target) +
                   fields::on_store_text(f) + " for " + fields::length_text(f);
          },
      .apply =
          [](FaultInjector& inj, const Fault& f, int client) {
            World& world = inj.world();
            const Duration length = f.length.value_or(Duration(0));
            inj.note(client, "latency spike " + format_duration(f.latency.min) + ".." +
                                 format_duration(f.latency.max) + fields::on_store_text(f) +
                                 " for " + format_duration(length));
            inj.slow({.from = world.now(),
                      .until = world.now() + length,
                      .client = client,
                      .store = f.store.value_or(-1),
                      .latency = f.latency});
          },
      .draw =
          [](NemesisDraw& d, Fault& f) {
            f.length = d.rng.between(100ms, d.timeout * 2);
            f.latency.min = 1ms;
            f.latency.max = d.rng.between(5ms, d.timeout);
            if (d.rng.chance(0.5)) f.target = d.pick_client(false);
          },
      .gen =
          [](const FaultDraft& base, int) {
            return rc::gen::build(
                draft::just(base), draft::at(), draft::client_or_all(), draft::index(),
                draft::length(100, 2001),
                rc::gen::set(&FaultDraft::amount, rc::gen::inRange<int64_t>(5, 1001)));
          },
      .from_draft =
          [](const FaultDraft& d, const DraftScale& s, Fault& f) {
            f.length = s.of_timeout(d.length_pm);
            f.latency.min = 1ms;
            f.latency.max = std::max<Duration>(1ms, s.of_timeout(d.amount));
          },
      .live = {.params = {LiveParam::Client, LiveParam::At, LiveParam::For, LiveParam::Min,
                          LiveParam::Max, LiveParam::Server},
               .required = 4,
               .help = "the client's TCP proxy holds what passes, each way, MIN..MAX "
                       "(default MAX = MIN) for FOR; CLIENT may be all",
               .zk_only = true,
               .all_clients = true},
  };
  return d;
}

}  // namespace lockstep::sim
