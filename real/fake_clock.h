// Live `clock` faults: a client process's own clock drifts or jumps, for real, with
// libfaketime (Debian's `libfaketime`, which `faketime` depends on).
//
// When a run has a clock fault, every client process starts with libfaketime preloaded
// (libfaketimeMT: the ZooKeeper client has threads) and a spec file of its own, read on
// every clock call (FAKETIME_NO_CACHE). The file starts at "+0 x1": the true clock. A
// fault rewrites it: "OFFSET xRATE". libfaketime counts the rate from the process's start,
// so each change keeps the clock continuous (a drift bends it, it does not step it) by
// moving the offset; only a jump steps it. CLOCK_MONOTONIC is faked (the algorithm's
// Env::now() and its timers read it), and so is the wall clock; the history's stamps are
// not (true_steady_now(), real/live_env.h).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/time.h"

namespace lockstep::real {

class FakeClocks {
 public:
  // The library's path, or "" if it is not installed.
  static std::string library();
  // "" if clock faults can be done here, else one line saying why not.
  static std::string why_not();

  // Makes a directory of its own for the spec files (under $TMPDIR or /tmp).
  FakeClocks();
  ~FakeClocks();  // removes it
  FakeClocks(const FakeClocks&) = delete;
  FakeClocks& operator=(const FakeClocks&) = delete;

  // What client `client`'s process needs in its environment (LD_PRELOAD, ahead of any
  // inherited one, and libfaketime's variables: names and values), its clock reset to the
  // true one. `started`: the true steady time just before its exec, which libfaketime
  // counts its rate from.
  std::vector<std::pair<std::string, std::string>> settings(int client, Time started);
  // Sets the client's rate to 1 + drift_ppm / 1e6 from `now` on (true steady time), or
  // steps its clock by `jump`. "" when done, else why not.
  std::string change(int client, std::optional<double> drift_ppm, std::optional<Duration> jump,
                     Time now);

 private:
  // The faked clock is start + (t - start) x rate + offset, t the true one.
  struct Clock {
    Time start{0};
    double rate = 1;
    double offset_s = 0;
  };
  std::string path(int client) const;
  std::string write(int client, const Clock& c) const;
  std::string dir_;
  std::vector<Clock> clocks_;  // by client index
};

}  // namespace lockstep::real
