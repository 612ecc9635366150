// A run as a Chrome/Perfetto trace-event JSON document, so that it opens as a timeline in
// ui.perfetto.dev (or chrome://tracing).
//
// Tracks (all in pid 1):
//   tid 0           "server": sessions created and ended, stalls, server-side faults
//   tid i + 1       "client i": "holding lock" and "waiting" at the top level, with
//                   "paused", "down", "session suspended", "partitioned", ... nested in
//                   them; instants for faults, crashes, session expiry, lost_observed
//   tid clients + 1 "violations": "mutual exclusion violated" wherever two clients'
//                   belief intervals overlap (cname "terrible")
// Timestamps and durations are true time in microseconds. The same run gives the same
// bytes.
#pragma once

#include <string>

#include "sim/run.h"
#include "sim/scenario.h"

namespace lockstep::sim {

// The history is always used; the server's lines (sessions, lost replies) and the client
// library's (connected, disconnected) come from result.trace when the run kept it.
std::string perfetto_json(const Scenario& scenario, const RunResult& result);

}  // namespace lockstep::sim
