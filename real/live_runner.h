// A live run (`lockstep live`): the workload of core/workload run by N clients against a
// real store in real time, with faults done for real (SIGSTOP / SIGCONT of a client
// process, a session expired from outside, the ZooKeeper leader killed), the clients'
// histories merged, and the same checkers as a simulated run reading it.
//
// The coordinator (run_live) owns the run's clock: time 0 is the moment it starts the
// clients, faults are scheduled on it, and every event is shifted onto it. The clients
// stamp their events with the steady clock that every process of the machine shares
// (see live_client.h), so the merged history's intervals are comparable and a reported
// overlap is certain.
//
// Where the clients run is a LiveBackend: separate processes on ZooKeeper
// (ProcessBackend, here), or threads on an in-process store (real/local_store.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/check/judge.h"
#include "core/faults/live_fault.h"
#include "core/history.h"
#include "core/store.h"
#include "core/task.h"
#include "real/client_network.h"
#include "real/fake_clock.h"
#include "real/live_client.h"
#include "real/zk_ensemble.h"
#include "real/zk_store.h"

namespace lockstep::real {

struct LiveRunSpec {
  int clients = 3;
  // What every client runs; `index` is set per client, and `lock_path` is taken under
  // `root` (so "/locks/a" becomes "<root>/locks/a").
  LiveClientSpec client;
  std::vector<LiveFault> faults;
  // The run gives up this long after it started: every client still running is killed
  // (the liveness verdict then says the duration was reached).
  Duration duration = std::chrono::seconds(120);
  // Where the run's nodes live; removed, with everything under it, at the end. Empty:
  // /lockstep/live-<pid>-<nanoseconds>.
  std::string root;
  // The one-way latency the liveness-after-quiet bound allows for (see sim/run.cpp).
  Duration latency_bound = std::chrono::milliseconds(20);
  // Notes to put into the history at time 0 (e.g. scenario faults without a live form).
  std::vector<std::string> notes;
};

// The judged outcome (its history merged, in order of lo, with times since the run's
// start; store_requests are the requests the clients issued), and what only a live run has.
struct LiveRunResult : RunOutcome {
  std::string root, lock_path;
  int faults_applied = 0;
  Duration elapsed{0};
  // The run was cut off by its duration: the clients still running were killed then, and
  // the history ends there (see Coordinator::cut_off).
  bool cut_off = false;
  std::vector<std::string> problems;  // client errors, cleanup failures: one line each
  bool cleaned = false;               // the run's root is gone from the store
};

// A reference to one session a client reported.
struct SessionRef {
  int client = -1;
  int store = 0;  // lock store index; -1: the resource's
  int64_t id = 0;
  std::string passwd;
};

class LiveBackend {
 public:
  virtual ~LiveBackend() = default;
  virtual std::string describe() const = 0;
  // The coordinator opens its own sessions here (setup, leftovers, cleanup).
  virtual Store& admin_store() = 0;
  // Before the first session (e.g. creates the chroot).
  virtual Task<Error> prepare(Env& env, Duration connect_within);
  // Starts client spec.index (again, after a crash).
  virtual void start(const LiveClientSpec& spec) = 0;
  // After the first start()s: waits (up to `limit`) until every client is ready to run its
  // workload, which then begins. True if it waited: the run's time 0 is then afterwards.
  virtual bool wait_until_started(Duration /*limit*/) { return false; }
  // Messages from the clients, waiting up to `wait` for the first. A client that is
  // gone yields one Exited message.
  virtual std::vector<ClientMessage> poll(Duration wait) = 0;
  virtual bool running(int client) const = 0;
  // Stops / continues every thread of the client. False if it is not running.
  virtual bool suspend(int client) = 0;
  virtual bool resume(int client) = 0;
  // Kills the client now (no Exited message follows). "" when done, else why not.
  virtual std::string crash(int client) = 0;
  // Ends the session on the store, as a second handle closing it does. Blocking; may be
  // called from another thread. Ok if it ended, SessionExpired if it was gone already.
  virtual Error expire(const SessionRef& session) = 0;
  // Blocking; may be called from another thread. Unsupported by default.
  virtual ZkNodeOutcome kill_leader();
  virtual ZkNodeOutcome restart_node(const std::string& node);
  // Ends every client still running (resumed first if suspended) and waits for them.
  virtual void kill_all() = 0;
  // Called once, before the first start(): makes ready what the run's faults need (for
  // ProcessBackend: libfaketime for a clock). "" if every fault can be done here, else one
  // line saying why not (the run is then refused). By default, refuses the kinds that
  // strike() does.
  virtual std::string prepare_faults(const std::vector<LiveFault>& faults);
  // A fault done to one client by changing its surroundings (a clock, its network): ""
  // when done, else why not. heal() ends what strike() started (partition, latency, loss).
  virtual std::string strike(int client, const LiveFault& f);
  virtual std::string heal(int client, const LiveFault& f);
  // Every accepted resource write carried its zxid (the store's order), so the fencing
  // checker can judge them. Black-box clients need not say it.
  virtual bool writes_ordered() const { return true; }
};

// Clients as processes of their own: `executable live-client ...` (fork + exec), on the
// ZooKeeper ensemble(s) given by connect strings ("host:port,...[/chroot]"; the first is
// the admin's, and the one kill-leader aims at).
class ProcessBackend final : public LiveBackend {
 public:
  // `executable`: the lockstep binary ("" = /proc/self/exe). `options.auth`: the run's
  // identity, for the coordinator's sessions and, through LOCKSTEP_ZK_AUTH, the clients'.
  ProcessBackend(std::vector<std::string> connect, std::string executable = "",
                 ZkOptions options = {});
  ~ProcessBackend() override;

  std::string describe() const override;
  Store& admin_store() override;
  Task<Error> prepare(Env& env, Duration connect_within) override;
  void start(const LiveClientSpec& spec) override;
  std::vector<ClientMessage> poll(Duration wait) override;
  bool running(int client) const override;
  bool suspend(int client) override;
  bool resume(int client) override;
  std::string crash(int client) override;
  Error expire(const SessionRef& session) override;
  ZkNodeOutcome kill_leader() override;
  ZkNodeOutcome restart_node(const std::string& node) override;
  void kill_all() override;
  std::string prepare_faults(const std::vector<LiveFault>& faults) override;
  std::string strike(int client, const LiveFault& f) override;
  std::string heal(int client, const LiveFault& f) override;

 private:
  struct Child;
  std::unique_ptr<FakeClocks> clocks_;        // when the run has a clock fault
  std::unique_ptr<ClientNetworks> networks_;  // when it has a network fault
  std::vector<std::string> connect_;
  std::string executable_;
  ZkOptions options_;
  std::unique_ptr<Store> admin_;
  std::vector<std::unique_ptr<Child>> children_;  // by client index; null if never started
  ZkServerControl control_;
  Child* child(int client) const;
  void reap(Child& c, bool block);
};

// Runs the whole thing: setup, clients, faults, merge, cleanup, verdicts. Throws
// std::runtime_error if the store cannot be set up (nothing ran).
LiveRunResult run_live(const LiveRunSpec& spec, LiveBackend& backend);

// The merged history as JSON lines, one event each ({"t":lo,"hi":hi,"src":...,"ev":...}).
std::vector<std::string> history_trace(const History& h);

}  // namespace lockstep::real
