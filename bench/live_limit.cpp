// The ceiling on this machine: how many create+delete pairs per second the live ZooKeeper
// (LOCKSTEP_ZK=host:port; skipped without it) applies when clients pipeline them. Every
// lock acquisition creates a node and every release deletes one, so no lock on this
// server can hand over more often than this; the lock figures of bench/herd are read
// against it.
//
// limit/sessions:S/window:W  S sessions, each on its own thread with its own EventLoop,
// LiveEnv and ZooKeeper session, each running W lanes; a lane sends a create and the
// delete of the same node back to back without waiting (a connection is FIFO, so the
// delete always finds the node) and then waits for both replies, so each session keeps
// up to 2W requests outstanding. Runs for LOCKSTEP_BENCH_LIMIT_S seconds (default 2).
// Counters: pairs_per_s (create+delete pairs completed per second) and ops_per_s
// (requests per second, twice that); and what a pair costs in CPU (bench/cpu_meter.h):
// client_cpu_ms_per_pair, client_sys_ms_per_pair, client_switches_per_pair,
// server_cpu_ms_per_pair (with LOCKSTEP_ZK_PID), client_cores, server_cores.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <barrier>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench/cpu_meter.h"
#include "bench/live_session.h"
#include "core/store.h"
#include "core/task.h"
#include "real/event_loop.h"
#include "real/live_env.h"
#include "real/zk_store.h"

namespace {

using lockstep::bench::cleanup;
using lockstep::bench::close_on;
using lockstep::bench::connect_on;
using lockstep::bench::CpuSection;
using lockstep::bench::kLiveBase;
using lockstep::bench::prepare;
using lockstep::bench::with_admin_session;

using namespace std::chrono_literals;
using lockstep::Duration;
using lockstep::Time;

constexpr Duration kSessionTimeout = 10s;

struct Counts {
  int64_t pairs = 0;
  Time last_done{0};
  std::string error;
};

// Shared by the lanes of one session (all on its loop thread).
struct Lanes {
  int running = 0;
  lockstep::Promise<lockstep::Unit> all_done;
};

lockstep::Task<void> lane(lockstep::Env& env, lockstep::Session& s, std::string prefix, Time end,
                          Counts& counts, std::shared_ptr<Lanes> lanes) {
  for (int64_t k = 0; env.now() < end && counts.error.empty(); ++k) {
    const std::string path = prefix + std::to_string(k);
    lockstep::Future<lockstep::CreateReply> created =
        s.create(path, "", lockstep::CreateMode::Persistent);
    lockstep::Future<lockstep::Error> removed = s.remove(path, -1);
    lockstep::CreateReply c = co_await created;
    lockstep::Error r = co_await removed;
    if (c.err != lockstep::Error::Ok || r != lockstep::Error::Ok) {
      counts.error = "create " + std::string(lockstep::error_name(c.err)) + ", delete " +
                     std::string(lockstep::error_name(r));
      break;
    }
    ++counts.pairs;
    counts.last_done = lockstep::real::steady_now();
  }
  if (--lanes->running == 0) lanes->all_done.set(lockstep::Unit{});
}

lockstep::Task<void> run_lanes(lockstep::Env& env, lockstep::Session& s, std::string prefix,
                               int window, Duration length, Counts& counts) {
  auto lanes = std::make_shared<Lanes>();
  lanes->running = window;
  const Time end = env.now() + length;
  for (int w = 0; w < window; ++w)
    env.spawn(lane(env, s, prefix + std::to_string(w) + "-", end, counts, lanes));
  co_await lanes->all_done.future();
}

// `start` is passed once every session is connected, `finish` once every session's lanes
// are done (before the sessions close): the CPU section between them is the load.
void session_thread(int index, const std::string& connect, const std::string& dir, int window,
                    Duration length, CpuSection::Barrier& start, CpuSection::Barrier& finish,
                    Time& started, Counts& out) {
  lockstep::real::EventLoop loop;
  lockstep::real::LiveEnv env(loop, index);
  lockstep::real::ZkStore store(connect);
  std::shared_ptr<lockstep::Session> session;
  bool arrived = false, finished = false;
  try {
    lockstep::ConnectReply r =
        lockstep::real::run_task(env, connect_on(store, env, kSessionTimeout), 60s);
    if (r.err != lockstep::Error::Ok)
      throw std::runtime_error("connect: " + std::string(lockstep::error_name(r.err)));
    session = r.session;
    arrived = true;
    start.arrive_and_wait();
    if (index == 0) started = lockstep::real::steady_now();
    lockstep::real::run_task(
        env,
        run_lanes(env, *session, dir + "/s" + std::to_string(index) + "-", window, length, out),
        length + 60s);
    finished = true;
    finish.arrive_and_wait();
    lockstep::real::run_task(env, close_on(session), 30s);
  } catch (const std::exception& e) {
    if (out.error.empty()) out.error = e.what();
    if (!arrived) start.arrive_and_drop();
    if (!finished) finish.arrive_and_drop();
  }
}

void BM_LiveLimit(benchmark::State& state) {
  const char* zk = std::getenv("LOCKSTEP_ZK");
  if (!zk || !*zk) {
    state.SkipWithError("LOCKSTEP_ZK not set (LOCKSTEP_ZK=$(scripts/zk start))");
    return;
  }
  const int sessions = static_cast<int>(state.range(0));
  const int window = static_cast<int>(state.range(1));
  const char* secs = std::getenv("LOCKSTEP_BENCH_LIMIT_S");
  const double seconds = secs && *secs ? std::atof(secs) : 2.0;
  const Duration length =
      std::chrono::duration_cast<Duration>(std::chrono::duration<double>(seconds));
  const std::string connect = zk;
  const std::string dir = kLiveBase + "/limit-" + std::to_string(getpid()) + "-" +
                          std::to_string(sessions) + "-" + std::to_string(window);
  std::optional<CpuSection> cpu = CpuSection::from_env(state);
  if (!cpu) return;
  lockstep::Error prepared =
      with_admin_session(connect, [&](lockstep::Session& s) { return prepare(s, dir); });
  if (prepared != lockstep::Error::Ok) {
    state.SkipWithError(
        ("cannot create " + dir + ": " + std::string(lockstep::error_name(prepared))).c_str());
    return;
  }

  std::vector<Counts> counts(static_cast<size_t>(sessions));
  Time started{0};
  for (auto _ : state) {
    CpuSection::Barrier start(sessions, cpu->at_begin());
    CpuSection::Barrier finish(sessions, cpu->at_end());
    std::vector<std::thread> threads;
    for (int i = 0; i < sessions; ++i)
      threads.emplace_back(session_thread, i, std::cref(connect), std::cref(dir), window, length,
                           std::ref(start), std::ref(finish), std::ref(started),
                           std::ref(counts[static_cast<size_t>(i)]));
    for (auto& t : threads) t.join();
  }
  with_admin_session(connect, [&](lockstep::Session& s) { return cleanup(s, dir, kLiveBase); });

  int64_t pairs = 0;
  Time last{0};
  for (const auto& c : counts) {
    if (!c.error.empty()) {
      state.SkipWithError(("session error: " + c.error).c_str());
      return;
    }
    pairs += c.pairs;
    last = std::max(last, c.last_done);
  }
  const double span = std::chrono::duration<double>(last - started).count();
  state.counters["sessions"] = sessions;
  state.counters["window"] = window;
  state.counters["pairs"] = static_cast<double>(pairs);
  state.counters["pairs_per_s"] = span > 0 ? static_cast<double>(pairs) / span : 0.0;
  state.counters["ops_per_s"] = span > 0 ? 2.0 * static_cast<double>(pairs) / span : 0.0;
  cpu->report(state, static_cast<double>(pairs), "pair");
}

}  // namespace

int main(int argc, char** argv) {
  setenv("LOCKSTEP_ZK_LOG", "off", 0);
  // (sessions, lanes per session): one request pair at a time (the latency-bound
  // baseline), then deeper pipelines on one and several connections.
  benchmark::RegisterBenchmark("limit", BM_LiveLimit)
      ->ArgNames({"sessions", "window"})
      ->Args({1, 1})
      ->Args({1, 64})
      ->Args({4, 64})
      ->Args({16, 16})
      ->Iterations(1)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
