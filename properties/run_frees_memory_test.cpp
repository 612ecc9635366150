// A simulated run frees everything it allocates. `lockstep check` runs hundreds of
// thousands of worlds in one process: a cycle of shared_ptrs between a session and its
// connection once kept about 10 KB a run, and took `check --all` to 1.3 GB.
//
// This file is its own test program: it replaces the global operator new/delete with
// counting ones, which must not slow down or change the other tests.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <new>
#include <string>

#include "sim/run.h"
#include "sim/scenario.h"

namespace {
std::atomic<long> g_live_allocations{0};
}  // namespace

void* operator new(std::size_t n) {
  void* p = std::malloc(n ? n : 1);
  if (!p) throw std::bad_alloc();
  g_live_allocations.fetch_add(1, std::memory_order_relaxed);
  return p;
}
// GCC sees free() of what operator new returned, not that this is that operator's pair.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept {
  if (!p) return;
  g_live_allocations.fetch_sub(1, std::memory_order_relaxed);
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept { operator delete(p); }

namespace lockstep::sim {
namespace {

std::filesystem::path docs_file(const char* relative) {
  return std::filesystem::path(__FILE__).parent_path().parent_path() / "docs" / relative;
}

class RunFreesMemory : public ::testing::TestWithParam<const char*> {};

TEST_P(RunFreesMemory, NothingOutlivesTheRun) {
  const Scenario s = load_scenario(docs_file(GetParam()).string());
  for (bool trace : {false, true}) {
    SCOPED_TRACE(trace ? "with the trace" : "without the trace");
    // The first run fills the library's lazily built tables; later runs may add nothing.
    { RunResult warm_up = run_scenario(s, RunOptions{trace}); }
    const long before = g_live_allocations.load();
    for (int i = 0; i < 3; ++i) {
      RunResult r = run_scenario(s, RunOptions{trace});
      ASSERT_FALSE(r.verdicts.empty());
    }
    EXPECT_EQ(g_live_allocations.load() - before, 0)
        << "allocations left behind by 3 runs of " << GetParam();
  }
}

// One scenario per algorithm family and fault path: sessions that expire and reconnect,
// crashed clients and stores, N stores, a separate resource, sessionless stores.
INSTANTIATE_TEST_SUITE_P(
    Scenarios, RunFreesMemory,
    ::testing::Values("examples/recipe-basic.json", "examples/recipe-pause-holder.json",
                      "examples/zk-slow-herd.json",
                      "counterexamples/zk-slow-mutual-exclusion-partition.json",
                      "counterexamples/zk-ttl5s-lost-update-pause.json",
                      "counterexamples/etcd-session-mutual-exclusion-pause.json",
                      "counterexamples/local-liveness-after-quiet-crash.json",
                      "counterexamples/redlock5-mutual-exclusion-store_crash.json",
                      "counterexamples/redlock5-liveness-after-quiet-crash.json",
                      "counterexamples/lease-fenced-short-mixed-fencing-pause.json"));

}  // namespace
}  // namespace lockstep::sim
