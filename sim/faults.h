// The nemesis of the simulator: applies a scenario's faults at their virtual times, and
// draws random ones from the seed when the scenario asks for a nemesis. Every fault and
// its end goes into the history (and so the trace) as a Fault event.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
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

  // Schedules every fault of the scenario, and the nemesis' draws.
  void schedule_all();
  void schedule(const Fault& f);
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

 private:
  void apply(const Fault& f);
  // The client a fault names at this moment, or -1 (no holder / no waiter right now).
  int resolve(const Target& t) const;
  ZkServer& store_server(int store) const;
  void note(int client, const std::string& what);
  MessageFate fate(int client, Direction dir);
  void change_clock(Process& p, const ClockChange& c, int client);

  struct Window {
    Time from{0}, until{0};
    int client = -1;         // -1: every client
    std::string direction;   // partitions
    LatencyRange latency;    // spikes
    double probability = 0;  // loss / duplicate
  };
  struct PendingDrop {
    int client;
    std::string op;
  };

  Wiring w_;
  const Scenario& scenario_;
  std::vector<Window> partitions_, spikes_, losses_;
  std::vector<PendingDrop> drops_;
  std::optional<Time> last_reply_lost_;
  std::map<int, int> pending_restarts_;
};

}  // namespace lockstep::sim
