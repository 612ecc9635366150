// What the single-threaded C client would buy (issue 16 item 2's idea), measured before
// anyone rewrites real/zk_store.cpp for it: bench/live_limit's lanes, but on
// libzookeeper_st, every session of the process driven by one thread's poll() loop
// (zookeeper_interest / zookeeper_process), so a reply reaches the code that waits for it
// without passing through the multi-threaded client's I/O and completion threads and our
// EventLoop. Not linked with lockstep_real: the two C clients define the same symbols.
//
// st/limit/sessions:S/window:W  S sessions, W lanes each, all on this thread; a lane sends
// a create and the delete of the same node back to back and waits for both, as
// live_limit's does. LOCKSTEP_ZK=host:port (skipped without it); LOCKSTEP_BENCH_LIMIT_S
// seconds per configuration (default 2). Counters: pairs_per_s and ops_per_s, and what a
// pair costs in CPU (bench/cpu_meter.h; the server's with LOCKSTEP_ZK_PID), to read
// beside live_limit's limit/sessions:S/window:W.
#include <benchmark/benchmark.h>
#include <poll.h>
#include <unistd.h>
#include <zookeeper/zookeeper.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bench/cpu_meter.h"

namespace {

using Clock = std::chrono::steady_clock;
using lockstep::bench::CpuSection;

struct StSession;

// One lane: at most one create+delete pair in flight.
struct Lane {
  StSession* session = nullptr;
  std::string prefix;
  int64_t next = 0;
  int waiting = 0;  // replies still due for the pair in flight
  bool done = false;
};

struct StSession {
  zhandle_t* zh = nullptr;
  bool connected = false;
  bool expired = false;
  std::vector<Lane> lanes;
};

struct Run {
  Clock::time_point end;
  int64_t pairs = 0;
  int lanes_running = 0;
  std::string error;
};

Run* g_run = nullptr;  // the C client's completions carry one pointer: the lane

void on_state(zhandle_t*, int type, int state, const char*, void* ctx) {
  if (type != ZOO_SESSION_EVENT) return;
  auto* s = static_cast<StSession*>(ctx);
  if (state == ZOO_CONNECTED_STATE) s->connected = true;
  if (state == ZOO_EXPIRED_SESSION_STATE || state == ZOO_AUTH_FAILED_STATE) s->expired = true;
}

void start_pair(Lane& lane);

void pair_reply(Lane& lane, int rc) {
  if (rc != ZOK && g_run->error.empty())
    g_run->error = "request failed: " + std::string(zerror(rc));
  if (--lane.waiting > 0) return;
  ++g_run->pairs;
  if (Clock::now() >= g_run->end || !g_run->error.empty()) {
    lane.done = true;
    --g_run->lanes_running;
    return;
  }
  start_pair(lane);
}

void on_created(int rc, const char*, const void* data) {
  pair_reply(*static_cast<Lane*>(const_cast<void*>(data)), rc);
}
void on_deleted(int rc, const void* data) {
  pair_reply(*static_cast<Lane*>(const_cast<void*>(data)), rc);
}

void start_pair(Lane& lane) {
  const std::string path = lane.prefix + std::to_string(lane.next++);
  lane.waiting = 2;
  int rc = zoo_acreate(lane.session->zh, path.c_str(), "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, on_created,
                       &lane);
  if (rc == ZOK) rc = zoo_adelete(lane.session->zh, path.c_str(), -1, on_deleted, &lane);
  if (rc != ZOK) {
    if (g_run->error.empty()) g_run->error = "cannot send: " + std::string(zerror(rc));
    lane.done = true;
    --g_run->lanes_running;
  }
}

// One turn of the loop: wait (up to the clients' own timeouts, for their pings) until a
// socket is ready, then let each client read and write what it can.
void poll_once(std::vector<std::unique_ptr<StSession>>& sessions, int max_wait_ms) {
  std::vector<pollfd> fds(sessions.size());
  int wait_ms = max_wait_ms;
  for (size_t i = 0; i < sessions.size(); ++i) {
    int fd = -1, interest = 0;
    timeval tv{};
    zookeeper_interest(sessions[i]->zh, &fd, &interest, &tv);
    fds[i].fd = fd;
    fds[i].events = static_cast<short>(((interest & ZOOKEEPER_READ) ? POLLIN : 0) |
                                       ((interest & ZOOKEEPER_WRITE) ? POLLOUT : 0));
    const int ms = static_cast<int>(tv.tv_sec * 1000 + tv.tv_usec / 1000);
    wait_ms = std::min(wait_ms, std::max(ms, 0));
  }
  poll(fds.data(), fds.size(), wait_ms);
  for (size_t i = 0; i < sessions.size(); ++i) {
    const int events = ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) ? ZOOKEEPER_READ : 0) |
                       ((fds[i].revents & POLLOUT) ? ZOOKEEPER_WRITE : 0);
    zookeeper_process(sessions[i]->zh, events);
  }
}

void close_all(std::vector<std::unique_ptr<StSession>>& sessions) {
  for (auto& s : sessions)
    if (s->zh) zookeeper_close(s->zh);
}

void BM_StLimit(benchmark::State& state) {
  const char* zk = std::getenv("LOCKSTEP_ZK");
  if (!zk || !*zk) {
    state.SkipWithError("LOCKSTEP_ZK not set (LOCKSTEP_ZK=$(scripts/zk start))");
    return;
  }
  std::optional<CpuSection> cpu = CpuSection::from_env(state);
  if (!cpu) return;
  const int n_sessions = static_cast<int>(state.range(0));
  const int window = static_cast<int>(state.range(1));
  const char* secs = std::getenv("LOCKSTEP_BENCH_LIMIT_S");
  const double seconds = secs && *secs ? std::atof(secs) : 2.0;
  zoo_set_debug_level(static_cast<ZooLogLevel>(0));

  Run run;
  g_run = &run;
  std::vector<std::unique_ptr<StSession>> sessions;
  for (int i = 0; i < n_sessions; ++i) {
    auto s = std::make_unique<StSession>();
    s->zh = zookeeper_init(zk, on_state, 10000, nullptr, s.get(), 0);
    if (!s->zh) {
      state.SkipWithError("zookeeper_init failed");
      close_all(sessions);
      return;
    }
    sessions.push_back(std::move(s));
  }
  const auto connect_by = Clock::now() + std::chrono::seconds(30);
  auto all_connected = [&] {
    return std::all_of(sessions.begin(), sessions.end(), [](auto& s) { return s->connected; });
  };
  while (!all_connected() && Clock::now() < connect_by) poll_once(sessions, 100);
  if (!all_connected()) {
    state.SkipWithError("sessions did not connect within 30 s");
    close_all(sessions);
    return;
  }
  // Each lane writes under its own prefix directly below the root: no directory to make.
  const std::string base = "/lockstep-st-" + std::to_string(getpid()) + "-";
  for (int i = 0; i < n_sessions; ++i) {
    StSession& s = *sessions[static_cast<size_t>(i)];
    s.lanes.resize(static_cast<size_t>(window));
    for (int w = 0; w < window; ++w) {
      Lane& lane = s.lanes[static_cast<size_t>(w)];
      lane.session = &s;
      lane.prefix = base + std::to_string(i) + "-" + std::to_string(w) + "-";
    }
  }

  Clock::time_point started{};
  for (auto _ : state) {
    cpu->at_begin()();
    started = Clock::now();
    run.end = started +
              std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    run.lanes_running = n_sessions * window;
    for (auto& s : sessions)
      for (Lane& lane : s->lanes) start_pair(lane);
    while (run.lanes_running > 0) {
      poll_once(sessions, 100);
      for (auto& s : sessions)
        if (s->expired && run.error.empty()) run.error = "session expired";
      if (!run.error.empty() && Clock::now() > run.end + std::chrono::seconds(30)) break;
    }
    cpu->at_end()();
  }
  const double span = std::chrono::duration<double>(Clock::now() - started).count();
  close_all(sessions);
  g_run = nullptr;
  if (!run.error.empty()) {
    state.SkipWithError(run.error.c_str());
    return;
  }
  state.counters["sessions"] = n_sessions;
  state.counters["window"] = window;
  state.counters["pairs"] = static_cast<double>(run.pairs);
  state.counters["pairs_per_s"] = span > 0 ? static_cast<double>(run.pairs) / span : 0.0;
  state.counters["ops_per_s"] = span > 0 ? 2.0 * static_cast<double>(run.pairs) / span : 0.0;
  cpu->report(state, static_cast<double>(run.pairs), "pair");
}

}  // namespace

int main(int argc, char** argv) {
  auto* b = benchmark::RegisterBenchmark("st/limit", BM_StLimit);
  b->ArgNames({"sessions", "window"})->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);
  for (auto [s, w] : {std::pair{1, 1}, std::pair{1, 64}, std::pair{4, 64}, std::pair{16, 16}})
    b->Args({s, w});
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
