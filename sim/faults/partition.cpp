// partition: a client and the server cannot reach each other for a while, both ways or
// one way. Messages wait for the heal (TCP retransmits), so nothing is lost but time.
#include "core/prng.h"
#include "sim/faults/draft.h"
#include "sim/faults/fields.h"
#include "sim/faults/injector.h"

namespace lockstep::sim {

namespace {

const std::vector<std::string> kDirections = {"both", "to_server", "from_server"};

FaultInjector::Way way(const std::string& direction) {
  if (direction == kDirections[1]) return FaultInjector::Way::ToServer;
  if (direction == kDirections[2]) return FaultInjector::Way::FromServer;
  return FaultInjector::Way::Both;
}

}  // namespace

const FaultDescriptor& partition_fault() {
  static const FaultDescriptor d = {
      .kind = FaultKind::Partition,
      .name = "partition",
      .keys = {"kind", "client", "at", "for", "direction", "store"},
      .required = {"client", "at", "for"},
      .read =
          [](const scenario_json::Obj& o, const FaultLimits& limits, Fault& f) {
            fields::read_client(o, limits, f);
            fields::read_for(o, f);
            if (const auto* v = o.find("direction"))
              f.direction = scenario_json::read_choice(*v, o.at("direction"), kDirections);
            fields::read_store(o, limits, f);
          },
      .write =
          [](const Fault& f, nlohmann::ordered_json& j) {
            fields::put_client(f, j);
            fields::put_at(f, j);
            fields::put_for(f, j);
            j["direction"] = f.direction;
            fields::put_store(f, j);
          },
      .describe =
          [](const Fault& f) {
            return "partition " + fields::target_text(f.target) + fields::on_store_text(f) + " (" +
                   f.direction + ") for " + fields::length_text(f);
          },
      .apply =
          [](FaultInjector& inj, const Fault& f, int client) {
            World& world = inj.world();
            const Duration length = f.length.value_or(Duration(0));
            const Time until = world.now() + length;
            inj.note(client, "partition " + f.direction + fields::on_store_text(f) + " for " +
                                 format_duration(length));
            inj.cut({.from = world.now(),
                     .until = until,
                     .client = client,
                     .store = f.store.value_or(-1),
                     .way = way(f.direction)});
            world.at(until, [&inj, client] { inj.note(client, "partition healed"); });
          },
      .draw =
          [](NemesisDraw& d, Fault& f) {
            const Duration T = d.timeout;
            f.target = d.pick_client(true);
            f.length = d.rng.chance(0.5) ? d.rng.between(T / 20, T / 2) : d.rng.between(T, T * 3);
            f.direction = kDirections[d.rng.below(3)];
          },
      .gen =
          [](const FaultDraft& base, int) {
            return rc::gen::build(draft::just(base), draft::at(), draft::client(), draft::index(),
                                  draft::span(),
                                  rc::gen::set(&FaultDraft::variant, rc::gen::element(0, 1, 2)));
          },
      .from_draft =
          [](const FaultDraft& d, const DraftScale& s, Fault& f) {
            f.length = s.of_timeout(d.length_pm);
            f.direction = kDirections[static_cast<size_t>(d.variant)];
          },
      .live = {.params = {LiveParam::Client, LiveParam::At, LiveParam::For, LiveParam::Direction,
                          LiveParam::Server},
               .required = 3,
               .help = "iptables DROP in the client's network namespace for FOR; "
                       "DIRECTION both (default), to_server or from_server; SERVER: "
                       "only that server (0 = the first of the first --store)",
               .zk_only = true},
  };
  return d;
}

}  // namespace lockstep::sim
