// A small simulated world for tests that drive the simulated ZooKeeper directly: a
// server, N client processes, the fault injector, and a history, without the workload.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/history.h"
#include "core/store.h"
#include "core/task.h"
#include "sim/faults/injector.h"
#include "sim/network.h"
#include "sim/process.h"
#include "sim/scenario.h"
#include "sim/world.h"
#include "sim/zk/client.h"
#include "sim/zk/server.h"

namespace lockstep::sim::testing {

class TestRecorder final : public Recorder {
 public:
  TestRecorder(World& world, History& history) : world_(world), history_(history) {}
  void record(HistoryEvent e) override {
    e.lo = e.hi = world_.now();
    history_.add(std::move(e));
  }

 private:
  World& world_;
  History& history_;
};

class SimHarness {
 public:
  // `faults_json`: a scenario document's "faults" array, e.g. R"([{"kind":"pause",...}])".
  explicit SimHarness(int clients, uint64_t seed = 1, const std::string& faults_json = "[]",
                      const std::string& extra_json = "")
      : scenario_(parse_scenario(R"({"algorithm":"recipe","clients":)" + std::to_string(clients) +
                                 R"(,"faults":)" + faults_json + extra_json + "}")),
        world_(seed),
        server_process_(world_, -1, "server", 7),
        network_(world_, scenario_.network),
        server_(world_, network_, server_process_, scenario_.server, "server", 0),
        store_(network_, server_, &client_stats_),
        recorder_(world_, history_) {
    server_.start();
    for (int i = 0; i < clients; ++i)
      clients_.push_back(std::make_unique<Process>(world_, i, "client " + std::to_string(i),
                                                   100 + static_cast<uint64_t>(i)));
    FaultInjector::Wiring w;
    w.world = &world_;
    w.network = &network_;
    w.server = &server_;
    for (auto& c : clients_) w.clients.push_back(c.get());
    w.history = &history_;
    w.recorder = &recorder_;
    faults_ = std::make_unique<FaultInjector>(w, scenario_);
    faults_->schedule_all();
  }
  ~SimHarness() { clients_.clear(); }

  World& world() { return world_; }
  Process& client(int i) { return *clients_[i]; }
  ZkServer& server() { return server_; }
  Store& store() { return store_; }
  History& history() { return history_; }
  const ClientStats& client_stats() const { return client_stats_; }
  void spawn(int i, Task<void> t) { clients_[i]->spawn(std::move(t)); }
  void run_until(Duration t) { world_.run(Time(t), nullptr); }
  double now_s() const { return static_cast<double>(world_.now().count()) / 1e9; }

 private:
  Scenario scenario_;
  World world_;
  Process server_process_;
  Network network_;
  ZkServer server_;
  ClientStats client_stats_;
  SimStore store_;
  History history_;
  TestRecorder recorder_;
  std::vector<std::unique_ptr<Process>> clients_;
  std::unique_ptr<FaultInjector> faults_;
};

}  // namespace lockstep::sim::testing
