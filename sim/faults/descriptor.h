// A fault kind's descriptor: everything about one kind of fault in one value, so that a
// kind lives in one file (sim/faults/<kind>.cpp) and nothing else knows its name.
//
// The scenario parser, `check --faults`, the nemesis' `kinds` and `live --fault` all find
// a kind in the table (sim/faults/table.h), made from the one list core/faults/kinds.def.
// Adding a kind: docs/contributing.md, "Adding a fault kind".
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/faults/fault_kind.h"
#include "core/faults/live_fault.h"
#include "core/prng.h"
#include "core/time.h"
#include "sim/scenario.h"

namespace rc {
template <typename T>
class Gen;
}  // namespace rc

namespace lockstep::sim {

class FaultInjector;
namespace scenario_json {
class Obj;
}  // namespace scenario_json

// What a scenario's fault may name, known from the rest of the scenario.
struct FaultLimits {
  int clients = 1;
  int stores = 1;
};

// The nemesis drawing one fault from the seed: its own stream, and the session timeout
// the fault's sizes are scaled to.
struct NemesisDraw {
  Prng& rng;
  Duration timeout;
  int clients = 1;
  // A client by index, or (allow_roles) half the time the holder or a waiter.
  Target pick_client(bool allow_roles);
};

// One fault as the search draws it (`check`), before the scenario around it is known.
// Who it names is a role and a raw index, clamped below the number of clients only when
// the scenario is built, so that shrinking the clients never leaves a fault naming a
// client that is gone. Lengths are per mille of the session timeout, so a pause longer
// than the session stays one while the timeout shrinks.
struct FaultDraft {
  enum class Role { Holder, Waiter, Index, Server, None };
  FaultKind kind = FaultKind::Pause;
  int64_t at_ms = 0;
  Role role = Role::None;
  int index = 0;
  int64_t length_pm = 0;  // "for" (pause, partition, stall, spikes) or restart_after
  int variant = 0;        // clock: drift/jump/strobe; partition: direction; drop_reply: op
  int64_t amount = 0;     // drift ppm; jump, swing or spike max in per mille of T; loss per mille
  bool negative = false;  // drift or jump backwards
  int64_t period_ms = 0;  // strobe period
  int store = 0;          // server-side faults with several stores
  bool persist = true;    // store_crash
};

// What a draft becomes a fault against.
struct DraftScale {
  Duration timeout;  // the scenario's session timeout (whole milliseconds)
  int stores = 1;    // the stores the algorithm opens
  // Per mille of the timeout: a whole number of microseconds.
  Duration of_timeout(int64_t pm) const { return timeout / 1000 * pm; }
  // A drawn store index, kept below the stores there are.
  int store(int drawn) const;
};

// How `live --fault` writes a kind: NAME:PARAM:PARAM..., the first `required` of the
// params given, the rest optional. Direction: both, to_server or from_server; Server: a
// server's index over the connect strings; Change: a clock drift ("+50%", "-500ppm") or
// jump ("+2s", "-1s").
enum class LiveParam {
  Client,
  At,
  For,
  RestartAfter,
  Direction,
  Probability,
  Min,
  Max,
  Server,
  Change
};
struct LiveForm {
  std::vector<LiveParam> params = {};  // empty: the kind has no live form
  size_t required = 0;
  std::string_view help = {};  // what is done, for `live --help`
  bool zk_only = false;        // kills a process or a server, or isolates one: not on local:
  bool all_clients = false;    // CLIENT may be "all" (the scenario's fault names no client)
  // A scenario fault of this kind has a live form only if this holds (null: always, given
  // a client where the form names one).
  bool (*usable)(const Fault& f) = nullptr;
};

struct FaultDescriptor {
  FaultKind kind;
  std::string_view name;                       // as scenarios, --faults and --fault spell it
  std::vector<std::string_view> aliases = {};  // older spellings the command line still takes

  // The scenario file. `keys` ("kind" first) in the order they are written, `required`
  // those an entry must have. `read` gets an entry whose keys were checked against them
  // and whose "at" was read, and reads the rest; `write` writes every key but "kind", in
  // the order of `keys`.
  std::vector<std::string_view> keys;
  std::vector<std::string_view> required;
  void (*read)(const scenario_json::Obj& entry, const FaultLimits& limits, Fault& f);
  void (*write)(const Fault& f, nlohmann::ordered_json& entry);

  // One line in words, as `check` explains a counterexample.
  std::string (*describe)(const Fault& f);

  // The simulator: does the fault at its time, and schedules its own end (the heal: a
  // resume, a partition healed, a restart) if it has one. `client` is its target resolved
  // at this moment: an index, -2 for the server, -1 for none (every client).
  void (*apply)(FaultInjector& injector, const Fault& f, int client);
  // The nemesis: fills in a fault drawn from the seed. Null: the nemesis skips the kind.
  void (*draw)(NemesisDraw& draw, Fault& f) = nullptr;

  // The search (`check --faults`): the draft's parameters, and the fault it becomes. An
  // algorithm with fewer than `min_stores` stores is not searched with the kind.
  rc::Gen<FaultDraft> (*gen)(const FaultDraft& base, int stores);
  void (*from_draft)(const FaultDraft& draft, const DraftScale& scale, Fault& f);
  int min_stores = 1;

  LiveForm live = {};
};

}  // namespace lockstep::sim
