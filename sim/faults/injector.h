// The nemesis of the simulator: applies a scenario's faults at their virtual times, and
// draws random ones from the seed when the scenario asks for a nemesis. Every fault and
// its end goes into the history (and so the trace) as a Fault event.
//
// What a fault kind does is its descriptor's (sim/faults/<kind>.cpp): the injector finds
// its target, calls the kind's `apply`, and offers the verbs the kinds are made of (note,
// restart a client later, cut or slow a connection for a while, lose the next reply). The
// network windows stay here because the network asks them about every message.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/history.h"
#include "sim/network.h"
#include "sim/process.h"
#include "sim/scenario.h"
#include "sim/world.h"
#include "sim/zk/server.h"

namespace lockstep::sim {

class FaultInjector {
 public:
  struct Wiring {
    World* world = nullptr;
    Network* network = nullptr;
    ZkServer* server = nullptr;      // store 0
    std::vector<ZkServer*> servers;  // every store, for algorithms over several (may be empty)
    std::vector<Process*> clients;
    const History* history = nullptr;
    Recorder* recorder = nullptr;
    // Starts a client's workload afresh after a crash and restart.
    std::function<void(int client)> restart_client;
  };

  FaultInjector(Wiring wiring, const Scenario& scenario);

  // Schedules every fault of the scenario, and the nemesis' draws. A fault whose time
  // counts from an event waits for it (on_event).
  void schedule_all();
  void schedule(const Fault& f);
  // Every workload event of the run, as it is recorded: counts the armed triggers, and
  // schedules a fault whose event has come.
  void on_event(const HistoryEvent& e);
  // When the last fault that fired from an event is over (fault_end), if one fired.
  std::optional<Time> triggered_faults_over() const { return triggered_over_; }
  // Faults drawn by the nemesis from the seed (deterministic for a scenario and seed).
  static std::vector<Fault> draw_nemesis(const Scenario& scenario);
  // A crashed client that will be restarted later.
  bool restart_pending(int client) const {
    auto it = pending_restarts_.find(client);
    return it != pending_restarts_.end() && it->second > 0;
  }
  // When the last drop_reply struck (it is armed earlier, and strikes at the next
  // matching request); nullopt if none has.
  std::optional<Time> last_reply_lost() const { return last_reply_lost_; }

  // --- the verbs of the fault kinds ---------------------------------------------------
  World& world() { return *w_.world; }
  // The run's last instant: nothing scheduled after it ever runs.
  Time run_end() const { return Time(scenario_.duration); }
  Process& client(int index) { return *w_.clients[static_cast<size_t>(index)]; }
  ZkServer& server() { return *w_.server; }
  // Store `store`'s server (store 0's where there is one store).
  ZkServer& store_server(int store) const;
  // A Fault note in the history (client -1: none).
  void note(int client, const std::string& what);
  void record(HistoryEvent e) { w_.recorder->record(std::move(e)); }
  // Restarts a crashed client `after` from now, and its workload afresh.
  void restart_later(int client, Duration after);

  // A span of time in which the network treats one client's messages (or, client -1,
  // everyone's) differently.
  enum class Way { Both, ToServer, FromServer };
  struct Window {
    Time from{0}, until{0};
    int client = -1;
    int store = -1;             // only the client's link to that store; -1 every store
    Way way = Way::Both;        // cut
    LatencyRange latency = {};  // slow
    double probability = 0;     // lossy
  };
  // Held until the window ends (a partition), in one or both directions.
  void cut(const Window& w) { partitions_.push_back(w); }
  // Delayed by a draw from w.latency (a latency spike).
  void slow(const Window& w) { spikes_.push_back(w); }
  // The connection breaks with w.probability per message (loss or duplication, as TCP
  // sees them).
  void lossy(const Window& w) { losses_.push_back(w); }
  // The reply to the client's next request of kind `op` ("" any) on store `store` (any
  // if absent) is lost after the server applied it, and the connection breaks.
  void lose_next_reply(int client, const std::string& op, std::optional<int> store) {
    drops_.push_back({client, op, store});
  }
  // Every store's server (one where there is one store).
  std::vector<ZkServer*> store_servers() const;

 private:
  void apply(const Fault& f);
  // The client a fault names at this moment, or -1 (no holder / no waiter right now).
  int resolve(const Target& t) const;
  MessageFate fate(int client, int store, Direction dir);
  bool lose_reply(int client, int store, RequestKind kind);

  struct PendingDrop {
    int client;
    std::string op;
    std::optional<int> store;
  };
  struct Armed {
    Fault fault;
    int seen = 0;  // matching events so far
  };

  Wiring w_;
  const Scenario& scenario_;
  std::vector<Window> partitions_, spikes_, losses_;
  std::vector<PendingDrop> drops_;
  std::optional<Time> last_reply_lost_;
  std::map<int, int> pending_restarts_;
  mutable RoleTracker roles_;  // who holds and who waits, read from the history as it grows
  std::vector<Armed> armed_;
  std::optional<Time> triggered_over_;
};

// When a fault is over: its own end (its length, its restart, its strobe, a backward
// jump's stall), from its absolute `at`. A drift goes on for ever but is a rate, not an
// outage, and counts as over at once.
Time fault_end(const Fault& f);

}  // namespace lockstep::sim
