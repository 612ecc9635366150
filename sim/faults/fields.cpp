#include "sim/faults/fields.h"

#include <algorithm>
#include <climits>

#include "core/prng.h"
#include "sim/faults/trigger.h"

namespace lockstep::sim {

Target NemesisDraw::pick_client(bool allow_roles) {
  Target t;
  uint64_t r = rng.below(allow_roles ? 4 : 2);
  if (allow_roles && r == 0)
    t.kind = Target::Kind::Holder;
  else if (allow_roles && r == 1)
    t.kind = Target::Kind::Waiter;
  else
    t.index = static_cast<int>(rng.below(static_cast<uint64_t>(clients)));
  return t;
}

int DraftScale::store(int drawn) const { return std::min(drawn, std::max(1, stores) - 1); }

}  // namespace lockstep::sim

namespace lockstep::sim::fields {

using namespace scenario_json;

void read_client(const Obj& o, const FaultLimits& limits, Fault& f, bool server_ok) {
  if (const json* v = o.find("client"))
    f.target = read_target(*v, o.at("client"), limits.clients, server_ok, limits.stores);
}

void read_for(const Obj& o, Fault& f) {
  if (const json* v = o.find("for")) f.length = read_duration(*v, o.at("for"), Sign::NonNegative);
}

void read_restart_after(const Obj& o, Fault& f) {
  if (const json* v = o.find("restart_after"))
    f.restart_after = read_duration(*v, o.at("restart_after"), Sign::NonNegative);
}

void read_store(const Obj& o, const FaultLimits& limits, Fault& f) {
  if (const json* v = o.find("store")) {
    f.store = static_cast<int>(read_integer(*v, o.at("store"), 0, INT_MAX));
    if (*f.store >= limits.stores)
      fail(o.at("store"), "store " + std::to_string(*f.store) +
                              " out of range (stores: " + std::to_string(limits.stores) + ")");
  }
}

void read_probability(const Obj& o, Fault& f) {
  if (const json* v = o.find("probability")) {
    if (!v->is_number()) fail(o.at("probability"), "must be a number, got " + show(*v));
    f.probability = v->get<double>();
    if (!(f.probability >= 0 && f.probability <= 1))
      fail(o.at("probability"), "must be between 0 and 1, got " + show(*v));
  }
}

void put_at(const Fault& f, Json& j) {
  j["at"] = format_at(f);
  // Written only where it differs from what the reader assumes (the fault's own client).
  const bool own = f.target && f.target->kind == Target::Kind::Index && f.after &&
                   f.after->client == f.target->index;
  if (f.after && f.after->client && !own) j["after_client"] = *f.after->client;
}

void put_client(const Fault& f, Json& j) {
  if (f.target) j["client"] = target_json(*f.target);
}

void put_for(const Fault& f, Json& j) {
  if (f.length) j["for"] = format_duration(*f.length);
}

void put_restart_after(const Fault& f, Json& j) {
  if (f.restart_after) j["restart_after"] = format_duration(*f.restart_after);
}

void put_store(const Fault& f, Json& j) {
  if (f.store) j["store"] = *f.store;
}

void put_probability(const Fault& f, Json& j) { j["probability"] = f.probability; }

std::string target_text(const std::optional<Target>& t) {
  if (!t) return "every client";
  switch (t->kind) {
    case Target::Kind::Holder:
      return "the holder";
    case Target::Kind::Waiter:
      return "a waiter";
    case Target::Kind::Server:
      return "the server";
    case Target::Kind::NthHolder:
      return "the holder of grant " + std::to_string(t->index);
    case Target::Kind::HolderOnStore:
      return "the holder of the key on store " + std::to_string(t->index);
    case Target::Kind::Index:
      break;
  }
  return "client " + std::to_string(t->index);
}

std::string on_store_text(const Fault& f) {
  return f.store ? " on store " + std::to_string(*f.store) : "";
}

std::string length_text(const Fault& f) { return f.length ? format_duration(*f.length) : "0s"; }

std::string signed_duration(Duration d) {
  return d.count() < 0 ? "-" + format_duration(-d) : "+" + format_duration(d);
}

}  // namespace lockstep::sim::fields
