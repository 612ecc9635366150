// The process environment an algorithm sees: its local clock, its timers and its random
// stream. The simulator's clock drifts and jumps as the scenario says; the live one is
// the machine's. Algorithms touch time and randomness only through here.
#pragma once

#include <cstdint>
#include <string>

#include "core/executor.h"
#include "core/future.h"
#include "core/task.h"
#include "core/time.h"

namespace lockstep {

class Env {
 public:
  virtual ~Env() = default;

  // The local clock (may drift or jump relative to true time).
  virtual Time now() const = 0;
  // Set once the local clock reads at least `t`.
  virtual Future<Unit> timer_at(Time t) = 0;
  // 64 uniformly distributed bits from this process's stream.
  virtual uint64_t random64() = 0;
  // The executor this process's coroutines run on.
  virtual Executor& executor() = 0;
  // Which client this is (0-based), for naming and recording.
  virtual int client_index() const = 0;
  // Runs `task` concurrently on this process (heartbeats, watchers of session events).
  // It lives as long as the process: a crash destroys it wherever it is suspended.
  virtual void spawn(Task<void> task) = 0;

  Future<Unit> sleep_for(Duration d) { return timer_at(now() + d); }
  Future<Unit> sleep_until(Time t) { return timer_at(t); }

  // Uniform in [0, bound) without modulo bias, from random64(); deterministic everywhere.
  uint64_t uniform(uint64_t bound);
  // Uniform duration in [lo, hi].
  Duration uniform_duration(Duration lo, Duration hi);
  // A 32-hex-digit identifier (GUIDs for protected creates, Redlock values, ...).
  std::string random_hex_id();
};

}  // namespace lockstep
