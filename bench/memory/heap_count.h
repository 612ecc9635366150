// The bytes a program has asked operator new for: live now, and the most live at once
// since the last reset. Counted by replacing the global allocation functions
// (heap_count.cpp), so only a program linked with it counts (bench/sim_bench). What is
// counted is what the code requested, not what the allocator or the kernel made of it:
// the same run gives the same figures on every machine with the same standard library,
// unlike peak RSS, which moves with the allocator's caches and the machine's load.
#pragma once

#include <cstdint>

namespace lockstep::bench {

int64_t heap_live_bytes();
int64_t heap_peak_bytes();
// The peak starts again from what is live now.
void reset_heap_peak();

}  // namespace lockstep::bench
