// The workload one client runs: open its sessions, then for each cycle acquire the lock,
// hold it, release it, think. Written once, here, so a live run does exactly what a
// simulated one does; everything it sees goes into the history.
#pragma once

#include <string>
#include <vector>

#include "core/env.h"
#include "core/history.h"
#include "core/lock.h"
#include "core/store.h"
#include "core/task.h"

namespace lockstep {

struct WorkloadConfig {
  const AlgorithmInfo* algorithm = nullptr;
  Options options;
  std::string lock_path = "/locks/a";
  int cycles = 20;
  Duration hold = std::chrono::milliseconds(5);
  Duration think = std::chrono::milliseconds(1);
  Duration acquire_timeout = std::chrono::seconds(30);
  Duration session_timeout = std::chrono::seconds(4);
  // One per session the algorithm needs; most algorithms use one store.
  std::vector<Store*> stores;
};

// Runs the whole workload of one client; returns when every cycle is done and the
// sessions are closed.
Task<void> run_client(Env& env, Recorder& recorder, WorkloadConfig config);

}  // namespace lockstep
