// A simulated run frees everything it allocates. `lockstep check` runs hundreds of
// thousands of worlds in one process: a cycle of shared_ptrs between a session and its
// connection once kept about 10 KB a run, and took `check --all` to 1.3 GB.
//
// This file is its own test program: it replaces the global operator new/delete with
// counting ones, which must not slow down or change the other tests.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <new>
#include <string>

#include "sim/run.h"
#include "sim/scenario.h"

namespace {
std::atomic<long> g_live_allocations{0};

// Every form of operator new and delete is replaced, so whichever form a library (or a
// sanitizer's runtime) calls, an allocation and its release are counted as a pair and
// come from one allocator; replacing only some once made the counts go negative and
// ASan abort on a mismatched free.
void* counted_alloc(std::size_t n, std::size_t align = 0) noexcept {
  if (n == 0) n = 1;
  void* p = nullptr;
  if (align > alignof(std::max_align_t)) {
    n = (n + align - 1) / align * align;  // aligned_alloc wants a multiple of the alignment
    p = std::aligned_alloc(align, n);
  } else {
    p = std::malloc(n);
  }
  if (p) g_live_allocations.fetch_add(1, std::memory_order_relaxed);
  return p;
}
void counted_free(void* p) noexcept {
  if (!p) return;
  g_live_allocations.fetch_sub(1, std::memory_order_relaxed);
  std::free(p);
}
void* counted_or_throw(std::size_t n, std::size_t align = 0) {
  void* p = counted_alloc(n, align);
  if (!p) throw std::bad_alloc();
  return p;
}
}  // namespace

// GCC sees free() of what operator new returned, not that this is that operator's pair.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t n) { return counted_or_throw(n); }
void* operator new[](std::size_t n) { return counted_or_throw(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counted_alloc(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return counted_alloc(n); }
void* operator new(std::size_t n, std::align_val_t a) {
  return counted_or_throw(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a) {
  return counted_or_throw(n, static_cast<std::size_t>(a));
}
void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return counted_alloc(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {
  return counted_alloc(n, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept { counted_free(p); }
void operator delete[](void* p) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::size_t) noexcept { counted_free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { counted_free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { counted_free(p); }
void operator delete(void* p, std::align_val_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { counted_free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { counted_free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { counted_free(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { counted_free(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  counted_free(p);
}

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
    ASSERT_GE(before, 0) << "the counts went negative: a form of new or delete is not counted";
    EXPECT_EQ(g_live_allocations.load() - before, 0)
        << "allocations left behind by 3 runs of " << GetParam();
  }
}

// Each form of new is counted, and its delete uncounts it.
TEST(CountedAllocations, EveryFormOfNewAndDeleteIsCounted) {
  const long start = g_live_allocations.load();
  int* a = new int(1);
  int* b = new int[4];
  int* c = new (std::nothrow) int(2);
  int* d = new (std::nothrow) int[4];
  struct alignas(64) Wide {
    char bytes[64];
  };
  Wide* e = new Wide;
  Wide* f = new Wide[2];
  Wide* g = new (std::nothrow) Wide;
  EXPECT_EQ(g_live_allocations.load() - start, 7);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(e) % 64, 0u);
  delete a;
  delete[] b;
  delete c;
  delete[] d;
  delete e;
  delete[] f;
  delete g;
  EXPECT_EQ(g_live_allocations.load(), start);
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
