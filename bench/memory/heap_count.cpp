#include "bench/memory/heap_count.h"

#include <atomic>
#include <cstdlib>
#include <new>

namespace {

std::atomic<int64_t> live{0};
std::atomic<int64_t> peak{0};

// Each block carries its requested size in a header of the default new alignment, so
// the block after it stays as aligned as operator new promises.
constexpr size_t kHeader = __STDCPP_DEFAULT_NEW_ALIGNMENT__;
static_assert(kHeader >= sizeof(size_t));

void* counted_alloc(size_t size) noexcept {
  void* block = std::malloc(size + kHeader);
  if (!block) return nullptr;
  *static_cast<size_t*>(block) = size;
  const int64_t now = live.fetch_add(static_cast<int64_t>(size), std::memory_order_relaxed) +
                      static_cast<int64_t>(size);
  int64_t seen = peak.load(std::memory_order_relaxed);
  while (now > seen && !peak.compare_exchange_weak(seen, now, std::memory_order_relaxed)) {
  }
  return static_cast<char*>(block) + kHeader;
}

void counted_free(void* p) noexcept {
  if (!p) return;
  void* block = static_cast<char*>(p) - kHeader;
  live.fetch_sub(static_cast<int64_t>(*static_cast<size_t*>(block)), std::memory_order_relaxed);
  std::free(block);
}

void* counted_new(size_t size) {
  for (;;) {
    if (void* p = counted_alloc(size == 0 ? 1 : size)) return p;
    std::new_handler handler = std::get_new_handler();
    if (!handler) throw std::bad_alloc();
    handler();
  }
}

}  // namespace

namespace lockstep::bench {

int64_t heap_live_bytes() { return live.load(std::memory_order_relaxed); }
int64_t heap_peak_bytes() { return peak.load(std::memory_order_relaxed); }
void reset_heap_peak() { peak.store(live.load(std::memory_order_relaxed)); }

}  // namespace lockstep::bench

// The replaceable allocation functions without an alignment argument. The aligned ones
// keep the library's own pair (aligned_alloc and free): nothing here allocates over-aligned
// in bulk, and they never meet these blocks.
void* operator new(size_t size) { return counted_new(size); }
void* operator new[](size_t size) { return counted_new(size); }
void* operator new(size_t size, const std::nothrow_t&) noexcept {
  try {
    return counted_new(size);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](size_t size, const std::nothrow_t& tag) noexcept {
  return operator new(size, tag);
}
void operator delete(void* p) noexcept { counted_free(p); }
void operator delete[](void* p) noexcept { counted_free(p); }
void operator delete(void* p, size_t) noexcept { counted_free(p); }
void operator delete[](void* p, size_t) noexcept { counted_free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { counted_free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { counted_free(p); }
