// A process's local clock as a function of true time: an offset, a rate (drift in ppm)
// and steps. Timers wait for local readings, so a drifting or jumping clock moves them.
// Readings saturate at the time horizon (core/time.h): a clock run 1000x fast for years,
// or stepped forward again and again, stops there rather than wrap around.
#pragma once

#include <cstdint>

#include "core/time.h"

namespace lockstep::sim {

class LocalClock {
 public:
  // The local reading at true time t (t >= the last change).
  Time local_at(Time t) const { return add_sat(base_local_, scale(t - base_true_, drift_ppm_)); }
  // The earliest true time at which the clock reads at least `local` (never before `now`).
  Time true_when(Time local, Time now) const {
    Duration ahead = sub_sat(local, local_at(now));
    if (ahead <= Duration(0)) return now;
    // Inverse of the rate, rounded up; a timer that wakes a nanosecond early re-checks.
    double factor = 1.0 + drift_ppm_ / 1e6;
    if (factor <= 0) factor = 1e-6;
    Duration ns = from_double_ns(static_cast<double>(ahead.count()) / factor) + Duration(1);
    return add_sat(now, ns);
  }

  void set_drift_ppm(Time now, double ppm) {
    rebase(now);
    drift_ppm_ = ppm;
  }
  void jump(Time now, Duration by) {
    rebase(now);
    base_local_ = add_sat(base_local_, by);
  }
  double drift_ppm() const { return drift_ppm_; }

 private:
  void rebase(Time now) {
    base_local_ = local_at(now);
    base_true_ = now;
  }
  static Duration scale(Duration d, double ppm) {
    if (ppm == 0) return d;
    return add_sat(d, from_double_ns(static_cast<double>(d.count()) * ppm / 1e6));
  }

  Time base_true_{0};
  Time base_local_{0};
  double drift_ppm_ = 0;
};

}  // namespace lockstep::sim
