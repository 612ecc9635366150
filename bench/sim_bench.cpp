// The simulator's speed: simulated events per second and whole runs per second of the
// issue's reference scenario (recipe, 5 clients, 20 cycles, no faults), on one core.
// What a herd costs as it grows is bench/sim_herd.cpp: it counts every allocation, which
// would slow the runs timed here.
#include <benchmark/benchmark.h>

#include <string>

#include "sim/run.h"
#include "sim/scenario.h"
#include "sim/world.h"

namespace {

lockstep::sim::Scenario reference_scenario() {
  return lockstep::sim::parse_scenario(R"({
    "algorithm": "recipe", "seed": 42, "clients": 5, "session_timeout": "4s",
    "workload": { "cycles": 20, "hold": "5ms", "think": "1ms", "acquire_timeout": "30s" },
    "network": { "latency": { "min": "200us", "max": "2ms" } } })");
}

// The search's configuration: no trace kept.
void BM_RecipeRun(benchmark::State& state) {
  auto sc = reference_scenario();
  lockstep::sim::RunOptions opt;
  opt.keep_trace = state.range(0) != 0;
  int64_t events = 0;
  for (auto _ : state) {
    sc.seed++;
    auto r = lockstep::sim::run_scenario(sc, opt);
    events += r.stats.events;
    benchmark::DoNotOptimize(r.acquisitions);
  }
  state.counters["runs/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["events/s"] =
      benchmark::Counter(static_cast<double>(events), benchmark::Counter::kIsRate);
  state.counters["events/run"] =
      static_cast<double>(events) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_RecipeRun)->Arg(0)->Arg(1)->ArgName("trace")->Unit(benchmark::kMicrosecond);

// The event queue alone: schedule and run no-op events.
void BM_WorldEvents(benchmark::State& state) {
  for (auto _ : state) {
    lockstep::sim::World world(1, false);
    for (int i = 0; i < 10000; ++i)
      world.at(lockstep::Time(static_cast<int64_t>(world.rng().below(1000000))), [] {});
    while (world.step()) {
    }
  }
  state.counters["events/s"] = benchmark::Counter(static_cast<double>(state.iterations()) * 10000,
                                                  benchmark::Counter::kIsRate);
}
BENCHMARK(BM_WorldEvents)->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
