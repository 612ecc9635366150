#include "sim/run.h"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <map>
#include <memory>
#include <optional>

#include "core/json.h"
#include "core/lock.h"
#include "core/resource.h"
#include "core/workload.h"
#include "sim/faults/injector.h"
#include "sim/network.h"
#include "sim/process.h"
#include "sim/world.h"
#include "sim/zk/client.h"
#include "sim/zk/server.h"

namespace lockstep::sim {

namespace {

// A client's workload that threw (a malformed algorithm option, a bug) must not pass for
// one that merely stopped: the first exception ends the run, which rethrows it.
Task<void> keeping_failure(Task<void> workload, std::exception_ptr* failure) {
  try {
    co_await std::move(workload);
  } catch (...) {
    if (!*failure) *failure = std::current_exception();
  }
}

// Stamps each event with true time and mirrors it into the trace.
class SimRecorder final : public Recorder {
 public:
  SimRecorder(World& world, History& history, int clients)
      : world_(world), history_(history), finished_(static_cast<size_t>(clients), false) {}
  void record(HistoryEvent e) override {
    e.lo = e.hi = world_.now();
    if (e.kind == EventKind::ResourceWrite && e.accepted() && e.zxid)
      if (auto it = applied_.find(*e.zxid); it != applied_.end()) e.applied = it->second;
    if (e.client >= 0 && e.client < static_cast<int>(finished_.size())) {
      if (e.kind == EventKind::ClientDone) finished_[e.client] = true;
      if (e.kind == EventKind::ClientStart) finished_[e.client] = false;
    }
    if (world_.tracing()) {
      std::string line = "\"src\":\"client " + std::to_string(e.client) + "\",\"ev\":\"" +
                         std::string(event_kind_name(e.kind)) + "\"";
      if (e.token) line += ",\"token\":" + std::to_string(*e.token);
      if (e.value) line += ",\"value\":" + std::to_string(*e.value);
      if (e.kind == EventKind::ResourceWrite)
        line += std::string(",\"accepted\":") + (e.accepted() ? "true" : "false");
      if (!e.detail.empty()) line += ",\"detail\":" + json_quote(e.detail);
      world_.trace(line);
    }
    history_.add(std::move(e));
    if (on_event) on_event(history_.events().back());
  }
  std::optional<Time> stamp() override { return world_.now(); }
  // The resource's set with this zxid was applied now.
  void applied(int64_t zxid) { applied_[zxid] = world_.now(); }
  bool finished(int client) const { return finished_[client]; }
  // Sees every event once it is in the history (the fault injector's triggers).
  std::function<void(const HistoryEvent&)> on_event;

 private:
  World& world_;
  History& history_;
  std::vector<bool> finished_;
  // When each resource write was applied, by zxid: the latest with that zxid (a store that
  // restarts empty numbers its transactions again).
  std::map<int64_t, Time> applied_;
};

bool has_faults(const Scenario& s) { return !s.faults.empty() || s.nemesis.enabled; }

// A node left behind, and who made it: what a liveness report names, so a reader can
// follow the node to the session (and client) in the trace.
std::string leftover_text(ZkServer& server, const std::string& path) {
  DataTree& tree = server.tree();
  const int64_t stored = tree.stored_ephemeral_owner(path);
  // A normal session id is positive; the TTL and container encodings set the top bit.
  const bool ephemeral = stored > 0;
  const int64_t session = ephemeral ? stored : tree.creator_of(path);
  char id[32];
  std::snprintf(id, sizeof id, "0x%llx", static_cast<unsigned long long>(session));
  const int client = server.opener_of(session);
  const std::string who =
      (client >= 0 ? "client " + std::to_string(client) + "'s " : "") + "session " + id;
  if (ephemeral)
    return path + " (ephemeral of " + who +
           (server.session_client(session) >= 0 ? ", still open)" : ")");
  const std::string kind = tree.ttl_ms_of(path) > 0 ? "TTL node"
                           : stored < 0             ? "container"
                                                    : "persistent";
  return path + " (" + kind + ", created by " + who + ")";
}

// What stays behind under the lock path: every node below it, and the lock path itself
// when it is a lock node rather than a directory (zk-slow's single ephemeral).
std::vector<std::string> leftover_nodes(ZkServer& server, const std::string& lock_path) {
  DataTree& tree = server.tree();
  std::vector<std::string> out;
  ReadResult self = tree.exists(0, lock_path, false);
  if (self.err == Error::Ok && self.stat.ephemeral_owner != 0)
    out.push_back(leftover_text(server, lock_path));
  for (auto& p : tree.paths_under(lock_path)) out.push_back(leftover_text(server, p));
  return out;
}

// TTL nodes under the lock path (Redlock's keys) go by themselves, at the first pass of
// the server's container manager after their TTL: the longest TTL still to run out, or
// nullopt when there is none.
std::optional<Duration> longest_ttl_under(DataTree& tree, const std::string& lock_path) {
  std::optional<Duration> longest;
  for (auto& p : tree.paths_under(lock_path))
    if (int64_t ttl = tree.ttl_ms_of(p); ttl > 0)
      longest = std::max(longest.value_or(Duration(0)), Duration(std::chrono::milliseconds(ttl)));
  return longest;
}

// When the last fault of the run is over: each fault's own end (its length, its restart,
// its strobe, a backward jump), and for a nemesis no earlier than quiet_after, after which it
// starts nothing. A drop_reply is counted here at the moment it is armed; it strikes at the
// next matching request, which the run adds from the fault injector. A drift
// goes on for ever but is a rate, not an outage.
Time faults_over(const Scenario& sc) {
  Time end{0};
  auto add = [&end](const Fault& f) {
    // One that waits for an event is counted when it fires (the injector knows).
    if (!f.after) end = std::max(end, fault_end(f));
  };
  for (const Fault& f : sc.faults) add(f);
  if (sc.nemesis.enabled) {
    end = std::max(end, Time(sc.nemesis.quiet_after));
    for (const Fault& f : FaultInjector::draw_nemesis(sc)) add(f);
  }
  return end;
}

// The counter the resource holds at the end, read straight from the server's tree.
LostUpdateInput final_resource(DataTree& tree, const std::string& lock_path) {
  LostUpdateInput in;
  const std::string path = resource_path(lock_path);
  ReadResult r = tree.get(0, path, false);
  if (r.err == Error::NoNode) return in;
  if (r.err != Error::Ok) {
    in.final_error = path + ": " + std::string(error_name(r.err));
    return in;
  }
  auto state = parse_resource(r.data);
  if (!state)
    in.final_error = path + " holds \"" + r.data + "\"";
  else
    in.final_value = state->value;
  return in;
}

}  // namespace

uint64_t event_budget_for(const Scenario& sc) {
  const uint64_t n = static_cast<uint64_t>(std::max(sc.clients, 1));
  return kEventBudget + kEventBudgetPerClientPair * n * n;
}

RunResult run_scenario(const Scenario& sc, const RunOptions& options) {
  RunResult result;
  std::exception_ptr failure;  // the first a client's workload threw; outlives the world
  const AlgorithmInfo* algo = nullptr;
  try {
    algo = &resolve_algorithm(sc.algorithm);
  } catch (const UnknownAlgorithm& e) {
    throw ScenarioError{std::string("algorithm: ") + e.what()};
  }
  // Every option checked before anything runs: a bad one throws OptionError here.
  const OptionValues algo_options = algo->validate(sc.options);
  const std::optional<FencingSource> fencing = parse_fencing_source(sc.fencing);
  if (!fencing)
    throw ScenarioError{"fencing: unknown token source \"" + sc.fencing +
                        "\" (known: czxid, sequence, none)"};

  World world(sc.seed, options.keep_trace);
  const uint64_t budget = options.event_budget ? options.event_budget : event_budget_for(sc);
  world.set_event_budget(budget);
  if (world.tracing())
    world.trace("\"src\":\"world\",\"ev\":\"start\",\"algorithm\":" + json_quote(sc.algorithm) +
                ",\"seed\":" + std::to_string(sc.seed) +
                ",\"clients\":" + std::to_string(sc.clients));
  // One independent server per store the algorithm opens (Redlock's N), each a process
  // with its own clock.
  const int store_count = algo->store_count(algo_options);
  // etcd-session's ttl: its sessions open with the lease TTL, not the scenario's.
  const Duration session_timeout = algo->session_timeout_for(algo_options, sc.session_timeout);
  Network network(world, sc.network);
  ClientStats client_stats;
  std::vector<std::unique_ptr<Process>> server_processes;
  std::vector<std::unique_ptr<ZkServer>> servers;
  std::vector<std::unique_ptr<SimStore>> stores;
  for (int k = 0; k < store_count; ++k) {
    std::string name = store_count == 1 ? "server" : "store " + std::to_string(k);
    server_processes.push_back(std::make_unique<Process>(world, -1, name, world.rng().fork_seed()));
    servers.push_back(
        std::make_unique<ZkServer>(world, network, *server_processes.back(), sc.server, name, k));
    servers.back()->start();
    stores.push_back(std::make_unique<SimStore>(network, *servers.back(), &client_stats));
  }
  // With N stores, a separate resource is a storage service of its own: a server that no
  // store fault names, so a store that restarts empty does not take the data with it.
  // With one store it stays a second session on that server (see below).
  std::unique_ptr<Process> resource_process;
  std::unique_ptr<ZkServer> resource_server;
  std::unique_ptr<SimStore> resource_store;
  if (sc.resource.enabled && sc.resource.separate_store && store_count > 1) {
    resource_process = std::make_unique<Process>(world, -1, "resource", world.rng().fork_seed());
    resource_server =
        std::make_unique<ZkServer>(world, network, *resource_process, sc.server, "resource", -1);
    resource_server->start();
    resource_store = std::make_unique<SimStore>(network, *resource_server, &client_stats);
  }
  ZkServer& server = *servers[0];
  SimStore& store = *stores[0];
  SharedRegistry shared;

  SimRecorder recorder(world, result.history, sc.clients);
  {
    ZkServer& keeper = resource_server ? *resource_server : server;
    keeper.on_set_applied = [&recorder, rpath = resource_path(sc.lock_path)](
                                const std::string& path, int64_t zxid) {
      if (path == rpath) recorder.applied(zxid);
    };
  }
  std::vector<std::unique_ptr<Process>> clients;
  auto workload = [&] {
    WorkloadConfig cfg;
    cfg.algorithm = algo;
    cfg.options = algo_options;
    cfg.lock_path = sc.lock_path;
    cfg.cycles = sc.workload.cycles;
    cfg.hold = sc.workload.hold;
    cfg.think = sc.workload.think;
    cfg.acquire_timeout = sc.workload.acquire_timeout;
    cfg.heed_lost = sc.workload.heed_lost;
    cfg.session_timeout = session_timeout;
    for (auto& st : stores) cfg.stores.push_back(st.get());
    cfg.shared = &shared;
    cfg.resource.enabled = sc.resource.enabled;
    cfg.resource.fenced = sc.resource.fenced;
    cfg.resource.separate_store = sc.resource.separate_store;
    // With one store, a "separate" resource is a second session on its server, asking
    // for the longest timeout the server grants (20 ticks), as a storage service's
    // connection would outlive the lock's session. So a pause that expires the lock's
    // session leaves the resource's alive, and the stale holder's write arrives; session
    // faults aimed at the client (expire_session) and process-wide ones (a crash, a
    // partition, a server stall) still reach it.
    cfg.resource_store = resource_store ? resource_store.get() : &store;
    cfg.resource_session_timeout = mul_sat(sc.server.tick_time, 20);
    cfg.fencing = *fencing;
    return cfg;
  };
  for (int i = 0; i < sc.clients; ++i) {
    clients.push_back(std::make_unique<Process>(world, i, "client " + std::to_string(i),
                                                world.rng().fork_seed()));
    clients.back()->spawn(
        keeping_failure(run_client(*clients.back(), recorder, workload()), &failure));
  }

  FaultInjector::Wiring wiring;
  wiring.world = &world;
  wiring.network = &network;
  wiring.server = &server;
  for (auto& sv : servers) wiring.servers.push_back(sv.get());
  for (auto& c : clients) wiring.clients.push_back(c.get());
  wiring.history = &result.history;
  wiring.recorder = &recorder;
  wiring.restart_client = [&](int i) {
    clients[i]->spawn(keeping_failure(run_client(*clients[i], recorder, workload()), &failure));
  };
  FaultInjector faults(wiring, sc);
  // The clients go before the injector, also when the run ends in an error (its event
  // budget): a closing session asks the network, and the network the injector, for its
  // messages' fate (the scenario_run fuzz harness found the heap-use-after-free).
  struct ClientsGoFirst {
    std::vector<std::unique_ptr<Process>>& clients;
    ~ClientsGoFirst() { clients.clear(); }
  } clients_go_first{clients};
  recorder.on_event = [&faults](const HistoryEvent& e) { faults.on_event(e); };
  faults.schedule_all();

  // Done when every client finished its workload or is down for good.
  // Asked before every event: it starts at the client that was unsettled last time, so a
  // thousand clients cost one look per event, and says "settled" only after a full pass.
  int unsettled = 0;
  auto settled = [&] {
    if (failure) return true;
    auto busy = [&](int i) {
      return !recorder.finished(i) && (clients[i]->alive() || faults.restart_pending(i));
    };
    for (int n = 0; n < sc.clients; ++n, unsettled = (unsettled + 1) % sc.clients)
      if (busy(unsettled)) return false;
    return true;
  };
  world.run(Time(sc.duration), settled);
  if (failure) std::rethrow_exception(failure);
  const Time clients_settled = world.now();
  // A session a client abandoned without closing it (a crash, a failed close) holds its
  // ephemerals until the server expires it: let the servers get there before anything
  // is called left behind. The longest session is the resource's 20 ticks.
  auto no_sessions = [&] {
    for (auto& sv : servers)
      if (sv->session_count() > 0) return false;
    return !resource_server || resource_server->session_count() == 0;
  };
  world.run(std::min(Time(sc.duration), add_sat(world.now(), mul_sat(sc.server.tick_time, 22))),
            no_sessions);
  // Likewise a key whose owner gave up on it: it is not left behind, only not yet expired.
  std::optional<Duration> ttl_left;
  for (auto& sv : servers)
    if (auto t = longest_ttl_under(sv->tree(), sc.lock_path))
      ttl_left = std::max(ttl_left.value_or(Duration(0)), *t);
  if (ttl_left) {
    auto no_ttl_nodes = [&] {
      for (auto& sv : servers)
        if (longest_ttl_under(sv->tree(), sc.lock_path)) return false;
      return true;
    };
    world.run(std::min(Time(sc.duration),
                       add_sat(world.now(),
                               add_sat(*ttl_left, mul_sat(sc.server.ttl_check_interval, 2)))),
              no_ttl_nodes);
  }

  if (world.budget_spent())
    throw ScenarioError{
        "the run reached its budget of " + std::to_string(budget) +
        " simulated steps (events and the work they do) at virtual time " +
        format_seconds(world.now()) + " of its duration " + format_duration(sc.duration) +
        ": the scenario asks for more than one run does (docs/scenario.md, Limits); give it "
        "fewer clients, cycles or faults, or a shorter duration"};

  RunFacts facts{.clients = sc.clients,
                 .cycles = sc.workload.cycles,
                 .resource = sc.resource.enabled,
                 .final_resource = {},
                 .faults = has_faults(sc),
                 .quiet_from = faults_over(sc),
                 .session_timeout = session_timeout,
                 .hold = sc.workload.hold,
                 .max_latency = sc.network.latency.max,
                 .leftover_nodes = {},
                 .end = clients_settled,
                 .all_clients_done = true,
                 .store_requests = 0};
  // A lost reply is an outage from the moment it strikes, which may be long after it
  // was armed: the quiet starts no earlier than the last one.
  if (auto struck = faults.last_reply_lost())
    facts.quiet_from = std::max(facts.quiet_from, *struck);
  if (auto over = faults.triggered_faults_over())
    facts.quiet_from = std::max(facts.quiet_from, *over);
  if (sc.resource.enabled)
    facts.final_resource =
        final_resource(resource_server ? resource_server->tree() : server.tree(), sc.lock_path);
  for (int i = 0; i < sc.clients; ++i) facts.all_clients_done &= recorder.finished(i);
  for (size_t k = 0; k < servers.size(); ++k)
    for (auto& p : leftover_nodes(*servers[k], sc.lock_path))
      facts.leftover_nodes.push_back(servers.size() == 1 ? p
                                                         : "store " + std::to_string(k) + ":" + p);
  for (auto& sv : servers) facts.store_requests += sv->stats().requests;
  if (resource_server) facts.store_requests += resource_server->stats().requests;
  result.stats.watch_notifications = client_stats.notifications;
  result.stats.events = static_cast<int64_t>(world.events_run());
  result.stats.virtual_time = clients_settled;
  static_cast<RunOutcome&>(result) = judge(std::move(result.history), facts);

  if (world.tracing()) {
    for (const auto& v : result.verdicts)
      world.trace("\"src\":\"world\",\"ev\":\"verdict\",\"checker\":" + json_quote(v.checker) +
                  ",\"ok\":" + (v.ok ? "true" : "false") + ",\"summary\":" + json_quote(v.summary));
  }
  // Clients go before the server and network they hold references into.
  clients.clear();
  result.trace = world.take_trace();
  return result;
}

}  // namespace lockstep::sim
