// What a herd costs the simulator as the herd grows (docs/bench.md, "Herds to ten
// thousand"): events, requests, notifications and peak bytes per client. A program of its
// own because it replaces the global operator new to count bytes (bench/memory/), which
// costs every allocation; sim_bench's timed runs must not pay that.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <string>

#include "bench/memory/heap_count.h"
#include "sim/run.h"
#include "sim/scenario.h"

namespace {

// A herd: N clients, one cycle each (acquire, hold 1 ms, release), no think time, so all
// but the holder wait; no faults, no trace kept. The counters are exact and the same on
// every machine; only the time is not. Peak bytes are what the run asked operator new for
// at its most (bench/memory/heap_count.h), the run's result included, divided by N.
void BM_Herd(benchmark::State& state, const std::string& algorithm) {
  const int n = static_cast<int>(state.range(0));
  auto sc = lockstep::sim::parse_scenario(R"({
    "algorithm": ")" + algorithm + R"(", "clients": )" +
                                          std::to_string(n) + R"(,
    "workload": { "cycles": 1, "hold": "1ms", "think": "0ms", "acquire_timeout": "3600s" },
    "duration": "3600s", "session_timeout": "30s" })");
  lockstep::sim::RunOptions opt;
  opt.keep_trace = false;
  int64_t peak = 0;
  lockstep::sim::RunStats stats;
  int64_t releases = 0, requests = 0;
  bool done = false;
  for (auto _ : state) {
    lockstep::bench::reset_heap_peak();
    const int64_t before = lockstep::bench::heap_live_bytes();
    {
      auto r = lockstep::sim::run_scenario(sc, opt);
      peak = lockstep::bench::heap_peak_bytes() - before;
      stats = r.stats;
      releases = r.releases;
      requests = r.store_requests;
      done = r.all_clients_done && r.ok();
    }
  }
  if (!done) {
    state.SkipWithError("the herd did not finish, or a checker failed");
    return;
  }
  const double per_release = static_cast<double>(std::max<int64_t>(releases, 1));
  state.counters["N"] = n;
  state.counters["events"] = static_cast<double>(stats.events);
  state.counters["store_requests"] = static_cast<double>(requests);
  state.counters["requests_per_release"] = static_cast<double>(requests) / per_release;
  state.counters["notifications"] = static_cast<double>(stats.watch_notifications);
  state.counters["notifications_per_release"] =
      static_cast<double>(stats.watch_notifications) / per_release;
  state.counters["peak_bytes"] = static_cast<double>(peak);
  state.counters["peak_bytes_per_client"] = static_cast<double>(peak) / n;
  state.counters["virtual_s"] = std::chrono::duration<double>(stats.virtual_time).count();
}

// etcd-session stops at 1,000: its every check lists the keys and reads each one's create
// revision (N + 1 requests, all in flight at once), so its events and its memory grow
// with N^2 (docs/bench.md); 3,000 would take several gigabytes.
void register_herds() {
  struct Herd {
    const char* algorithm;
    int max_n;
  };
  for (const Herd h : {Herd{"recipe", 10000}, Herd{"zk-fast-pred", 10000}, Herd{"zk-ttl", 10000},
                       Herd{"zk-slow", 10000}, Herd{"etcd-session", 1000}}) {
    auto* b = benchmark::RegisterBenchmark((std::string("BM_Herd/") + h.algorithm).c_str(), BM_Herd,
                                           std::string(h.algorithm));
    // No Iterations(1): it would rename the runs; a run of a second or more is run once.
    b->Unit(benchmark::kMillisecond);
    for (int n = 10; n <= h.max_n; n *= 10) {
      b->Arg(n);
      if (3 * n <= h.max_n) b->Arg(3 * n);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_herds();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
