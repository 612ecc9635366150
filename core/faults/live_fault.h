// A fault as a live run does it: the plain facts the live runner (real/) needs to strike
// at its time. The command line's `--fault KIND:...` and a scenario fault with a live form
// become one of these through the kind's descriptor (sim/faults/live_form.h); the live
// runner dispatches on `kind`.
#pragma once

#include <cmath>
#include <cstdio>
#include <optional>
#include <string>

#include "core/faults/fault_kind.h"
#include "core/faults/fault_trigger.h"
#include "core/time.h"

namespace lockstep {

struct LiveFault {
  FaultKind kind = FaultKind::Pause;
  std::string name;  // the kind's name, as the history's notes spell it
  // All: every client (a latency or loss that names none).
  enum class Who { Index, Holder, Waiter, All };
  Who who = Who::Index;
  int client = 0;  // Who::Index
  // From the run's start, or with `after`, from the event that sets it off.
  Duration at{0};
  std::optional<FaultTrigger> after = {};
  Duration length{0};
  std::optional<Duration> restart_after = {};
  // The network faults (partition, latency, loss): which way a partition cuts ("both",
  // "to_server", "from_server"), what share of packets a loss drops, a latency's range.
  std::string direction = "both";
  double probability = 0;
  Duration latency_min{0}, latency_max{0};
  // Which servers a network fault reaches: a scenario's `store` (every server of that
  // store's connect string), or `server` (--fault: one server, counted over the connect
  // strings in order). Neither: every server.
  std::optional<int> store = {};
  std::optional<int> server = {};
  // clock: the rate's offset from 1 in ppm, or a step.
  std::optional<double> drift_ppm = {};
  std::optional<Duration> jump = {};
};

// The client a live fault names, as --fault spells it: holder, waiter or an index.
inline std::string who_text(const LiveFault& f) {
  switch (f.who) {
    case LiveFault::Who::Holder:
      return "holder";
    case LiveFault::Who::Waiter:
      return "waiter";
    case LiveFault::Who::All:
      return "all";
    case LiveFault::Who::Index:
      break;
  }
  return std::to_string(f.client);
}

// A clock fault's drift as --fault spells it and the notes say it: "+50%", "-500ppm".
inline std::string drift_text(double ppm) {
  char buf[64];
  if (std::fmod(ppm, 10000) == 0)
    std::snprintf(buf, sizeof buf, "%+.0f%%", ppm / 10000);
  else
    std::snprintf(buf, sizeof buf, "%+.0fppm", ppm);
  return buf;
}

}  // namespace lockstep
