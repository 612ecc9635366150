// A small pool for running independent simulated worlds on several cores. The simulator
// itself never starts a thread (sim/ must not): the command line does, here, and each
// world stays single-threaded and deterministic.
#pragma once

#include <cstddef>
#include <functional>

namespace lockstep::cli {

// Runs work(k) for k = 0, 1, ... count-1 on `jobs` threads. Indices are handed out in
// increasing order, so when `stop()` turns true every index below the ones not started
// has been run: a caller that stops at a failure and takes the lowest failing index gets
// the same answer for any number of jobs. While it waits, the calling thread calls
// `tick()` about every 100 ms (for a progress line). The first exception a work item
// throws stops the pool and is rethrown here. `work` and `stop` must be thread-safe.
void parallel_for(size_t count, int jobs, const std::function<void(size_t)>& work,
                  const std::function<bool()>& stop = nullptr,
                  const std::function<void()>& tick = nullptr);

// The number of cores, at least 1.
int default_jobs();

}  // namespace lockstep::cli
