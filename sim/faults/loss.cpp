// loss and duplicate: messages (of one client, or everyone's) are lost or duplicated with
// a probability for a while. Over TCP either one breaks the connection, and that is what
// the simulated network does for both; they stay two kinds because scenarios name them.
#include <cstdio>

#include "core/prng.h"
#include "sim/faults/draft.h"
#include "sim/faults/fields.h"
#include "sim/faults/injector.h"
#include "sim/faults/table.h"

namespace lockstep::sim {

namespace {

using namespace std::chrono_literals;

FaultDescriptor lossy(FaultKind kind, std::string_view name) {
  return {
      .kind = kind,
      .name = name,
      .keys = {"kind", "at", "for", "probability", "client", "store"},
      .required = {"at", "for", "probability"},
      .read =
          [](const scenario_json::Obj& o, const FaultLimits& limits, Fault& f) {
            fields::read_client(o, limits, f);
            fields::read_for(o, f);
            fields::read_probability(o, f);
            fields::read_store(o, limits, f);
          },
      .write =
          [](const Fault& f, nlohmann::ordered_json& j) {
            fields::put_at(f, j);
            fields::put_for(f, j);
            fields::put_probability(f, j);
            fields::put_client(f, j);
            fields::put_store(f, j);
          },
      .describe =
          [](const Fault& f) {
            char buf[32];
            std::snprintf(buf, sizeof buf, "%.1f%%", f.probability * 100);
            return std::string(fault_name(f.kind)) + " " + buf + " on " +
                   fields::target_text(f.target) + fields::on_store_text(f) + " for " +
                   fields::length_text(f);
          },
      .apply =
          [](FaultInjector& inj, const Fault& f, int client) {
            World& world = inj.world();
            const Duration length = f.length.value_or(Duration(0));
            char p[32];
            std::snprintf(p, sizeof p, "%.3f", f.probability);
            inj.note(client, std::string(fault_name(f.kind)) + " p=" + p +
                                 fields::on_store_text(f) + " for " + format_duration(length) +
                                 " (the connection breaks, as TCP would)");
            inj.lossy({.from = world.now(),
                       .until = world.now() + length,
                       .client = client,
                       .store = f.store.value_or(-1),
                       .probability = f.probability});
          },
      .draw =
          [](NemesisDraw& d, Fault& f) {
            f.length = d.rng.between(100ms, d.timeout);
            f.probability = static_cast<double>(d.rng.below(200) + 1) / 1000.0;
            if (d.rng.chance(0.5)) f.target = d.pick_client(false);
          },
      .gen =
          [](const FaultDraft& base, int) {
            return rc::gen::build(
                draft::just(base), draft::at(), draft::client_or_all(), draft::index(),
                draft::length(100, 1001),
                rc::gen::set(&FaultDraft::amount, rc::gen::inRange<int64_t>(1, 201)));
          },
      .from_draft =
          [](const FaultDraft& d, const DraftScale& s, Fault& f) {
            f.length = s.of_timeout(d.length_pm);
            f.probability = static_cast<double>(d.amount) / 1000.0;
          },
  };
}

}  // namespace

const FaultDescriptor& loss_fault() {
  static const FaultDescriptor d = [] {
    FaultDescriptor loss = lossy(FaultKind::Loss, "loss");
    loss.live = {.params = {LiveParam::Client, LiveParam::At, LiveParam::For,
                            LiveParam::Probability, LiveParam::Server},
                 .required = 4,
                 .help =
                     "iptables drops each packet, each way, with PROBABILITY (0..1) for "
                     "FOR, in the client's network namespace; CLIENT may be all",
                 .zk_only = true,
                 .all_clients = true};
    return loss;
  }();
  return d;
}

const FaultDescriptor& duplicate_fault() {
  static const FaultDescriptor d = lossy(FaultKind::Duplicate, "duplicate");
  return d;
}

}  // namespace lockstep::sim
