// A scenario: everything one simulated run depends on besides the code. Same scenario,
// same seed: the same trace, byte for byte. The file format is documented in
// docs/scenario.md and is a contract with users and other tools.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/faults/fault_kind.h"
#include "core/faults/fault_trigger.h"
#include "core/history.h"
#include "core/options.h"
#include "core/time.h"

namespace lockstep::sim {

struct WorkloadSpec {
  int cycles = 20;
  Duration hold = std::chrono::milliseconds(5);
  Duration think = std::chrono::milliseconds(1);
  Duration acquire_timeout = std::chrono::seconds(30);
  // The clients stop believing when the algorithm signals the lock lost (false: they never
  // look, as a client of etcd's Mutex that never reads session.Done()).
  bool heed_lost = true;
  bool operator==(const WorkloadSpec&) const = default;
};

struct LatencyRange {
  Duration min = std::chrono::microseconds(200);
  Duration max = std::chrono::milliseconds(2);
  bool operator==(const LatencyRange&) const = default;
};

struct NetworkSpec {
  LatencyRange latency;
  bool operator==(const NetworkSpec&) const = default;
};

// The simulated server's configuration (zoo.cfg's knobs that matter here).
struct ServerSpec {
  Duration tick_time = std::chrono::milliseconds(2000);          // sessions negotiate 2..20 ticks
  Duration ttl_check_interval = std::chrono::milliseconds(500);  // container manager pass
  bool operator==(const ServerSpec&) const = default;
};

// A process or the server, as a fault names it.
struct Target {
  // NthHolder: the client of the run's index-th grant ("holder#2"), whether or not it
  // still holds. HolderOnStore: the client whose lock key is on store `index` when the
  // fault strikes ("holder@2"), for algorithms over several stores such as redlock.
  enum class Kind { Index, Holder, Waiter, Server, NthHolder, HolderOnStore } kind = Kind::Index;
  int index = 0;  // the client (Index), N (NthHolder), or the store (HolderOnStore)
  bool operator==(const Target&) const = default;
};

struct ClockChange {
  std::optional<double> drift_ppm;  // new rate offset in parts per million
  std::optional<Duration> jump;     // signed step
  struct Strobe {
    Duration swing{0}, period{0}, length{0};
    bool operator==(const Strobe&) const = default;
  };
  std::optional<Strobe> strobe;
  bool operator==(const ClockChange&) const = default;
};

// One scheduled fault. Which fields a kind uses, and how it reads, writes and does them,
// is in its descriptor (sim/faults/); docs/scenario.md lists each kind's keys.
struct Fault {
  FaultKind kind = FaultKind::Pause;
  Time at{0};  // from the run's start, or with `after`, from that event
  std::optional<FaultTrigger> after;
  std::optional<Target> target;    // client (or "server" for clock)
  std::optional<Duration> length;  // "for"
  std::optional<Duration> restart_after;
  std::string direction = "both";  // partition: both, to_server, from_server
  std::string op;                  // drop_reply: which request kind, empty = any
  LatencyRange latency;            // latency spike
  double probability = 0;          // loss / duplicate
  ClockChange clock;
  // The store a fault names (an index from 0). Absent: every store for the network and
  // session kinds (partition, latency, loss, duplicate, drop_reply, expire_session),
  // store 0 for a server's clock or stall.
  std::optional<int> store;
  bool persist = true;  // store_crash
  bool operator==(const Fault&) const = default;
};

// The most faults a nemesis draws in one run. The parser refuses a nemesis whose
// min(quiet_after, duration) / mean_interval is above half of it, so an accepted scenario
// never comes near it.
inline constexpr size_t kMaxNemesisFaults = 100000;

struct NemesisSpec {
  bool enabled = false;
  std::vector<FaultKind> kinds;
  Duration mean_interval = std::chrono::seconds(2);
  Duration quiet_after = std::chrono::seconds(60);
  bool operator==(const NemesisSpec&) const = default;
};

struct ResourceSpec {
  bool enabled = false;
  bool fenced = true;
  bool separate_store = false;
  bool operator==(const ResourceSpec&) const = default;
};

struct Scenario {
  std::string algorithm = "recipe";
  Options options;
  uint64_t seed = 1;
  int clients = 3;
  Duration session_timeout = std::chrono::seconds(4);
  std::string lock_path = "/locks/a";
  WorkloadSpec workload;
  NetworkSpec network;
  ServerSpec server;
  std::vector<Fault> faults;
  NemesisSpec nemesis;
  ResourceSpec resource;
  std::string fencing = "";  // "", "czxid", "sequence", "none": override the token source
  Duration duration = std::chrono::seconds(120);

  // Field by field; Options has no == of its own, so its values are compared.
  bool operator==(const Scenario& o) const;
};

// A bad scenario: one line naming the key and the problem.
struct ScenarioError {
  std::string message;  // e.g. "workload.hold: \"5\" is not a duration with a unit"
};

// The scenario file format this build reads and writes (docs/scenario.md, "format"): a file
// may say which it follows; one from a newer format is refused rather than half-read.
inline constexpr int kScenarioFormat = 1;

// Parses and validates a scenario document (JSON text). Throws ScenarioError.
Scenario parse_scenario(const std::string& json_text);
// The largest scenario file read (docs/scenario.md): the biggest counterexample written
// so far is a few KB, so 4 MiB leaves room for generated ones and bounds what a wrong
// path (/dev/zero, a log) can cost.
inline constexpr size_t kMaxScenarioFileBytes = size_t{4} << 20;

// Reads a file (at most kMaxScenarioFileBytes) and parses it. Throws ScenarioError
// (naming the file if unreadable or too large).
Scenario load_scenario(const std::string& path);
// Writes a scenario back as JSON that parse_scenario reads to the same Scenario.
std::string scenario_to_json(const Scenario& s);
// Reads an "options" object alone (e.g. {"ttl": "10s", "stores": 5}) into text values, the
// way parse_scenario does, but without checking its keys against an algorithm. Errors
// name "options.<key>". Throws ScenarioError.
Options parse_options(const std::string& json_text);

}  // namespace lockstep::sim
