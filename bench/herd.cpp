// The herd effect and lock speed as contenders grow.
//
// sim/<algorithm>/N:<n>   the simulator, N = 2..256 contenders, each doing 3 cycles with a
//                         5 ms hold and no think time, so everyone contends. Counters per
//                         release: watch notifications delivered to clients, requests the
//                         server processed, and the virtual handoff latency (true time from
//                         a holder's ReleaseStart to the next holder's Acquired, from the
//                         history). Exact and deterministic: the same on every machine.
// live/<algorithm>/N:<n>  a live ZooKeeper (LOCKSTEP_ZK=host:port; skipped without it),
//                         N = 1..64 contenders, each a thread with its own EventLoop,
//                         LiveEnv and ZooKeeper session. Once every session is connected
//                         they all start together and do K cycles (acquire, hold, release,
//                         no think time). Counters: handoffs per second, handoff latency
//                         p50/p99/mean (ReleaseStart -> next holder's Acquired, one steady
//                         clock), and per release the watch notifications and requests
//                         this client library saw (counted by a Session decorator: a watch
//                         event other than "session ended" delivered to the algorithm);
//                         and the CPU a release costs (bench/cpu_meter.h): this process's
//                         client_cpu_ms_per_release (client_sys_ms_per_release of it),
//                         client_switches_per_release, the server's
//                         server_cpu_ms_per_release (with LOCKSTEP_ZK_PID), client_cores
//                         and server_cores.
//
// Live knobs (environment): LOCKSTEP_BENCH_CYCLES (K, default 10), LOCKSTEP_BENCH_HOLD_MS
// (default 5), LOCKSTEP_BENCH_MAX_N (default 64). docs/bench.md explains every figure.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <barrier>
#include <cmath>
#include <cstdlib>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "bench/cpu_meter.h"
#include "bench/live_session.h"
#include "core/history.h"
#include "core/lock.h"
#include "core/store.h"
#include "core/task.h"
#include "real/event_loop.h"
#include "real/live_env.h"
#include "real/zk_store.h"
#include "sim/run.h"
#include "sim/scenario.h"

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
using lockstep::EventKind;
using lockstep::Time;

// --- handoffs from stamped events (both worlds) ---------------------------------------

struct Stamp {
  int client = -1;
  EventKind kind = EventKind::Note;
  Time t{0};
};

struct Handoffs {
  std::vector<double> latency_ms;  // one per handoff: ReleaseStart -> next Acquired
  int64_t acquisitions = 0;
  Time first_acquired{0}, last_acquired{0};
  bool overlap = false;  // two clients believed they held at once (a broken lock)
};

Handoffs handoffs(std::vector<Stamp> stamps) {
  std::stable_sort(stamps.begin(), stamps.end(),
                   [](const Stamp& a, const Stamp& b) { return a.t < b.t; });
  Handoffs h;
  std::optional<int> holder;
  std::optional<Time> released_at;
  for (const Stamp& s : stamps) {
    if (s.kind == EventKind::Acquired) {
      if (holder) h.overlap = true;
      holder = s.client;
      if (h.acquisitions++ == 0) h.first_acquired = s.t;
      h.last_acquired = s.t;
      if (released_at)
        h.latency_ms.push_back(
            std::chrono::duration<double, std::milli>(s.t - *released_at).count());
      released_at.reset();
    } else if (s.kind == EventKind::ReleaseStart) {
      holder.reset();
      released_at = s.t;
    }
  }
  std::sort(h.latency_ms.begin(), h.latency_ms.end());
  return h;
}

// Nearest-rank percentile of sorted values (0 if none).
double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(sorted.size())));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

double mean(const std::vector<double>& v) {
  if (v.empty()) return 0;
  double sum = 0;
  for (double x : v) sum += x;
  return sum / static_cast<double>(v.size());
}

void latency_counters(benchmark::State& state, const Handoffs& h) {
  state.counters["handoffs"] = static_cast<double>(h.latency_ms.size());
  state.counters["p50_ms"] = percentile(h.latency_ms, 0.50);
  state.counters["p99_ms"] = percentile(h.latency_ms, 0.99);
  state.counters["mean_ms"] = mean(h.latency_ms);
}

// --- the simulator ----------------------------------------------------------------------

constexpr int kSimCycles = 3;

void BM_SimHerd(benchmark::State& state, const std::string& algorithm) {
  const int n = static_cast<int>(state.range(0));
  lockstep::sim::Scenario sc;
  sc.algorithm = algorithm;
  sc.seed = 1;
  sc.clients = n;
  sc.workload.cycles = kSimCycles;
  sc.workload.hold = 5ms;
  sc.workload.think = 0ms;
  sc.workload.acquire_timeout = 600s;
  sc.duration = 3600s;
  lockstep::sim::RunOptions opt;
  opt.keep_trace = false;
  lockstep::sim::RunResult r;
  for (auto _ : state) {
    r = lockstep::sim::run_scenario(sc, opt);
    benchmark::DoNotOptimize(r.stats.events);
  }
  std::vector<Stamp> stamps;
  int64_t failures = 0;
  for (const auto& e : r.history.events()) {
    if (e.kind == EventKind::Acquired || e.kind == EventKind::ReleaseStart)
      stamps.push_back({e.client, e.kind, e.lo});
    if (e.kind == EventKind::AcquireFailed) ++failures;
  }
  const Handoffs h = handoffs(std::move(stamps));
  const double releases = static_cast<double>(std::max<int64_t>(r.releases, 1));
  state.counters["N"] = n;
  state.counters["releases"] = static_cast<double>(r.releases);
  state.counters["notifications_per_release"] =
      static_cast<double>(r.stats.watch_notifications) / releases;
  state.counters["requests_per_release"] = static_cast<double>(r.store_requests) / releases;
  state.counters["acquire_failures"] = static_cast<double>(failures);
  state.counters["virtual_s"] = std::chrono::duration<double>(r.stats.virtual_time).count();
  latency_counters(state, h);
  if (h.overlap) state.SkipWithError("mutual exclusion violated in the simulator");
}

// --- the live runtime -------------------------------------------------------------------

// What one live contender's session saw.
struct SessionCounts {
  int64_t requests = 0;           // calls made (close excluded)
  int64_t notifications = 0;      // watch events delivered, "session ended" excluded
  std::vector<Time> watch_times;  // when each of those reached this client's loop
};

void count_watch(lockstep::Future<lockstep::WatchEvent> w, SessionCounts* counts) {
  auto count = [counts](const lockstep::WatchEvent& e) {
    if (e.type == lockstep::WatchEventType::SessionEnded) return;
    ++counts->notifications;
    counts->watch_times.push_back(lockstep::real::steady_now());
  };
  if (w.ready())
    count(w.get());
  else
    w.base()->subscribe([w, count] { count(w.get()); });
}

// Hooks the watch a reply carries, if any, without changing the future the caller gets
// (no extra hop through the event loop: the hook runs where the reply is set).
template <class R>
lockstep::Future<R> watched(lockstep::Future<R> f, SessionCounts* counts) {
  auto hook = [counts](const R& r) {
    if (r.watch.valid()) count_watch(r.watch, counts);
  };
  if (f.ready())
    hook(f.get());
  else
    f.base()->subscribe([f, hook] { hook(f.get()); });
  return f;
}

// A Session that forwards to the real one and counts requests and watch notifications.
class CountingSession final : public lockstep::Session {
 public:
  CountingSession(std::shared_ptr<lockstep::Session> inner, SessionCounts* counts)
      : inner_(std::move(inner)), counts_(counts) {}

  lockstep::Future<lockstep::CreateReply> create(const std::string& path, const std::string& data,
                                                 lockstep::CreateMode mode, Duration ttl) override {
    ++counts_->requests;
    return inner_->create(path, data, mode, ttl);
  }
  lockstep::Future<lockstep::Error> remove(const std::string& path, int32_t version) override {
    ++counts_->requests;
    return inner_->remove(path, version);
  }
  lockstep::Future<lockstep::GetReply> get(const std::string& path, bool watch) override {
    ++counts_->requests;
    return watched(inner_->get(path, watch), counts_);
  }
  lockstep::Future<lockstep::ExistsReply> exists(const std::string& path, bool watch) override {
    ++counts_->requests;
    return watched(inner_->exists(path, watch), counts_);
  }
  lockstep::Future<lockstep::ChildrenReply> children(const std::string& path, bool watch) override {
    ++counts_->requests;
    return watched(inner_->children(path, watch), counts_);
  }
  lockstep::Future<lockstep::SetReply> set(const std::string& path, const std::string& data,
                                           int32_t version) override {
    ++counts_->requests;
    return inner_->set(path, data, version);
  }
  lockstep::Future<lockstep::MultiReply> multi(const std::vector<lockstep::Op>& ops) override {
    ++counts_->requests;
    return inner_->multi(ops);
  }
  lockstep::Future<lockstep::Unit> close() override { return inner_->close(); }
  lockstep::SessionState state() const override { return inner_->state(); }
  int64_t id() const override { return inner_->id(); }
  Duration timeout() const override { return inner_->timeout(); }
  lockstep::Future<lockstep::SessionEvent> next_event() override { return inner_->next_event(); }
  lockstep::Future<lockstep::SessionState> ended() override { return inner_->ended(); }

 private:
  std::shared_ptr<lockstep::Session> inner_;
  SessionCounts* counts_;
};

struct LiveConfig {
  std::string connect;
  const lockstep::AlgorithmInfo* algorithm = nullptr;
  lockstep::Options options;  // beyond the catalogue's defaults
  std::string path;
  int cycles = 10;
  Duration hold = 5ms;
};

struct LiveClient {
  std::vector<Stamp> stamps;
  SessionCounts counts;
  int64_t releases = 0;
  std::string error;
};

constexpr Duration kSessionTimeout = 10s;
constexpr Duration kAcquireTimeout = 120s;

// The contended workload: acquire, hold, release, no think time; the Acquired stamp is
// taken when the client knows it holds, the ReleaseStart stamp before it lets go.
lockstep::Task<void> contend(lockstep::Env& env, lockstep::Lock& lock, const LiveConfig& cfg,
                             LiveClient& out) {
  const int me = env.client_index();
  for (int k = 0; k < cfg.cycles; ++k) {
    lockstep::AcquireResult got = co_await lock.acquire(env.now() + kAcquireTimeout);
    if (!got.acquired) {
      out.error = "acquire failed: " + got.error;
      co_return;
    }
    out.stamps.push_back({me, EventKind::Acquired, lockstep::real::steady_now()});
    co_await env.sleep_for(cfg.hold);
    out.stamps.push_back({me, EventKind::ReleaseStart, lockstep::real::steady_now()});
    lockstep::ReleaseResult released = co_await lock.release();
    out.stamps.push_back({me, EventKind::Released, lockstep::real::steady_now()});
    ++out.releases;
    if (!released.ok) {
      out.error = "release failed: " + released.error;
      co_return;
    }
  }
}

// `start` is passed once every session is connected, `finish` once every client has done
// its cycles (before the sessions close): the CPU section between them is the contention.
void live_client(int index, const LiveConfig& cfg, CpuSection::Barrier& start,
                 CpuSection::Barrier& finish, LiveClient& out) {
  lockstep::real::EventLoop loop;
  lockstep::real::LiveEnv env(loop, index);
  lockstep::real::ZkStore store(cfg.connect);
  std::shared_ptr<lockstep::Session> session;
  bool arrived = false, finished = false;
  try {
    lockstep::ConnectReply r =
        lockstep::real::run_task(env, connect_on(store, env, kSessionTimeout), 60s);
    if (r.err != lockstep::Error::Ok)
      throw std::runtime_error("connect: " + std::string(lockstep::error_name(r.err)));
    session = r.session;
    lockstep::LockContext ctx;
    ctx.env = &env;
    ctx.sessions.push_back(std::make_shared<CountingSession>(session, &out.counts));
    ctx.path = cfg.path;
    ctx.options = cfg.algorithm->validate(cfg.options);
    auto lock = cfg.algorithm->make(std::move(ctx));
    arrived = true;
    start.arrive_and_wait();
    lockstep::real::run_task(env, contend(env, *lock, cfg, out), 2 * kAcquireTimeout);
    finished = true;
    finish.arrive_and_wait();
    lock.reset();
    lockstep::real::run_task(env, close_on(session), 30s);
  } catch (const std::exception& e) {
    if (out.error.empty()) out.error = e.what();
    if (!arrived) start.arrive_and_drop();
    if (!finished) finish.arrive_and_drop();
  }
}

// Where a live handoff's time goes, from the client side: ReleaseStart -> the next
// holder's loop sees the watch event (the delete reaching the server, its commit, the
// notification's way back through the C client to the loop), then -> Acquired (what the
// next holder does before it knows it holds: for the queue locks a getChildren round
// trip, for zk-slow a create racing the herd). And the releaser's own delete round trip.
struct Breakdown {
  std::vector<double> to_notify_ms, notify_to_acquired_ms, release_ms;
  int64_t without_notification = 0;  // handoffs whose next holder got no watch event
};

double ms_between(Time a, Time b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

Breakdown breakdown(const std::vector<LiveClient>& clients) {
  std::vector<Stamp> all;
  for (const auto& c : clients) all.insert(all.end(), c.stamps.begin(), c.stamps.end());
  std::stable_sort(all.begin(), all.end(),
                   [](const Stamp& a, const Stamp& b) { return a.t < b.t; });
  Breakdown b;
  bool pending = false;  // a release not yet followed by an acquire
  Time released_at{0};
  std::vector<Time> release_start(clients.size(), Time{0});
  for (const Stamp& s : all) {
    const auto c = static_cast<size_t>(s.client);
    if (s.kind == EventKind::ReleaseStart) {
      pending = true;
      released_at = s.t;
      release_start[c] = s.t;
    } else if (s.kind == EventKind::Released) {
      b.release_ms.push_back(ms_between(release_start[c], s.t));
    } else if (s.kind == EventKind::Acquired && pending) {
      const auto& w = clients[c].counts.watch_times;
      auto it = std::upper_bound(w.begin(), w.end(), s.t);
      if (it != w.begin() && *std::prev(it) >= released_at) {
        b.to_notify_ms.push_back(ms_between(released_at, *std::prev(it)));
        b.notify_to_acquired_ms.push_back(ms_between(*std::prev(it), s.t));
      } else {
        ++b.without_notification;
      }
      pending = false;
    }
  }
  for (auto* v : {&b.to_notify_ms, &b.notify_to_acquired_ms, &b.release_ms})
    std::sort(v->begin(), v->end());
  return b;
}

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  return std::atoi(v);
}

double env_double(const char* name, double fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  return std::atof(v);
}

// One live benchmark: a name of its own (the lock path and the report use it), the
// catalogue algorithm and the options it runs with.
struct LiveSubject {
  std::string name, algorithm;
  lockstep::Options options;
};

void BM_LiveHerd(benchmark::State& state, const LiveSubject& subject) {
  const std::string& algorithm = subject.algorithm;
  const char* zk = std::getenv("LOCKSTEP_ZK");
  if (!zk || !*zk) {
    state.SkipWithError("LOCKSTEP_ZK not set (LOCKSTEP_ZK=$(scripts/zk start))");
    return;
  }
  const int n = static_cast<int>(state.range(0));
  LiveConfig cfg;
  cfg.connect = zk;
  cfg.algorithm = &lockstep::resolve_algorithm(algorithm);
  cfg.options = subject.options;
  cfg.cycles = std::max(1, env_int("LOCKSTEP_BENCH_CYCLES", 10));
  cfg.hold = std::chrono::duration_cast<Duration>(
      std::chrono::duration<double, std::milli>(env_double("LOCKSTEP_BENCH_HOLD_MS", 5)));
  cfg.path = kLiveBase + "/herd-" + std::to_string(getpid()) + "-" + subject.name + "-" +
             std::to_string(n);
  // zk-slow's lock is the node itself; the others queue under a directory. Either way
  // the persistent nodes exist before the clock starts.
  const std::string dir = algorithm == "zk-slow" ? kLiveBase : cfg.path;
  std::optional<CpuSection> cpu = CpuSection::from_env(state);
  if (!cpu) return;
  lockstep::Error prepared =
      with_admin_session(cfg.connect, [&](lockstep::Session& s) { return prepare(s, dir); });
  if (prepared != lockstep::Error::Ok) {
    state.SkipWithError(
        ("cannot create " + dir + ": " + std::string(lockstep::error_name(prepared))).c_str());
    return;
  }

  std::vector<LiveClient> clients(static_cast<size_t>(n));
  for (auto _ : state) {
    CpuSection::Barrier start(n, cpu->at_begin());
    CpuSection::Barrier finish(n, cpu->at_end());
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i)
      threads.emplace_back(live_client, i, std::cref(cfg), std::ref(start), std::ref(finish),
                           std::ref(clients[static_cast<size_t>(i)]));
    for (auto& t : threads) t.join();
  }
  with_admin_session(cfg.connect,
                     [&](lockstep::Session& s) { return cleanup(s, cfg.path, kLiveBase); });

  std::vector<Stamp> stamps;
  SessionCounts total;
  int64_t releases = 0;
  for (const auto& c : clients) {
    if (!c.error.empty()) {
      state.SkipWithError(("client error: " + c.error).c_str());
      return;
    }
    stamps.insert(stamps.end(), c.stamps.begin(), c.stamps.end());
    total.requests += c.counts.requests;
    total.notifications += c.counts.notifications;
    releases += c.releases;
  }
  const Handoffs h = handoffs(std::move(stamps));
  if (h.overlap) {
    state.SkipWithError("mutual exclusion violated: two clients held at once");
    return;
  }
  const double span = std::chrono::duration<double>(h.last_acquired - h.first_acquired).count();
  const double per = static_cast<double>(std::max<int64_t>(releases, 1));
  state.counters["N"] = n;
  state.counters["cycles"] = cfg.cycles;
  state.counters["hold_ms"] = std::chrono::duration<double, std::milli>(cfg.hold).count();
  state.counters["releases"] = static_cast<double>(releases);
  state.counters["handoffs_per_s"] =
      span > 0 ? static_cast<double>(h.acquisitions - 1) / span : 0.0;
  state.counters["notifications_per_release"] = static_cast<double>(total.notifications) / per;
  state.counters["requests_per_release"] = static_cast<double>(total.requests) / per;
  latency_counters(state, h);
  const Breakdown b = breakdown(clients);
  state.counters["to_notify_ms_p50"] = percentile(b.to_notify_ms, 0.50);
  state.counters["notify_to_acquired_ms_p50"] = percentile(b.notify_to_acquired_ms, 0.50);
  state.counters["release_rtt_ms_p50"] = percentile(b.release_ms, 0.50);
  state.counters["handoffs_without_notification"] = static_cast<double>(b.without_notification);
  cpu->report(state, static_cast<double>(releases), "release");
}

}  // namespace

int main(int argc, char** argv) {
  // Closing sessions makes the C client log errors nobody needs here, unless asked.
  setenv("LOCKSTEP_ZK_LOG", "off", 0);
  // Simulator: the literal zk-fast too (its waiters may wait for a node that never
  // comes; acquire_failures shows it). Live: the three that finish a contended run.
  for (const std::string algo : {"zk-slow", "zk-fast", "zk-fast-pred", "recipe"}) {
    auto* b = benchmark::RegisterBenchmark(("sim/" + algo).c_str(), BM_SimHerd, algo);
    b->ArgName("N")->Iterations(1)->Unit(benchmark::kMillisecond);
    for (int n = 2; n <= 256; n *= 2) b->Arg(n);
  }
  const int max_n = env_int("LOCKSTEP_BENCH_MAX_N", 64);
  // recipe-direct: recipe with handoff=direct (a waiter that knows it is next takes the
  // lock on the notification, without listing again).
  for (const LiveSubject& l :
       {LiveSubject{"zk-slow", "zk-slow", {}}, LiveSubject{"zk-fast-pred", "zk-fast-pred", {}},
        LiveSubject{"recipe", "recipe", {}},
        LiveSubject{
            "recipe-direct", "recipe",
            lockstep::Options(std::map<std::string, std::string>{{"handoff", "direct"}})}}) {
    auto* b = benchmark::RegisterBenchmark(("live/" + l.name).c_str(), BM_LiveHerd, l);
    b->ArgName("N")->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);
    for (int n = 1; n <= max_n; n *= 2) b->Arg(n);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
