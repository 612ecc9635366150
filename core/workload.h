// The workload one client runs: open its sessions, then for each cycle acquire the lock,
// hold it (reading and incrementing the fenced resource, if there is one), release it,
// think. Written once, here, so a live run does exactly what a simulated one does;
// everything it sees goes into the history.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/env.h"
#include "core/history.h"
#include "core/lock.h"
#include "core/shared_registry.h"
#include "core/store.h"
#include "core/task.h"

namespace lockstep {

// Where the token a client fences its resource writes with comes from (the scenario's
// "fencing", the CLI's --fencing).
enum class FencingSource {
  Own,       // "": the algorithm's own token (Lease::token), none if it has none
  Czxid,     // "czxid": the lock node's czxid (Lease::node_czxid)
  Sequence,  // "sequence": the lock node's sequence number (Lease::node_sequence)
  None,      // "none": no token; fenced writes then carry none and are always accepted
};
std::optional<FencingSource> parse_fencing_source(std::string_view name);
std::string_view fencing_source_name(FencingSource s);
// The token a lease gives under that source; empty where the lease has none.
std::optional<uint64_t> fencing_token(const Lease& lease, FencingSource source);

// The fenced resource each critical section touches (core/resource.h).
struct ResourceConfig {
  bool enabled = false;
  bool fenced = true;
  // On a session of its own, opened on WorkloadConfig::resource_store, instead of the
  // lock's (first) session: lock-session trouble then does not stop resource writes.
  bool separate_store = false;
};

struct WorkloadConfig {
  const AlgorithmInfo* algorithm = nullptr;
  OptionValues options;  // validated against `algorithm`'s catalogue entry
  std::string lock_path = "/locks/a";
  int cycles = 20;
  Duration hold = std::chrono::milliseconds(5);
  Duration think = std::chrono::milliseconds(1);
  Duration acquire_timeout = std::chrono::seconds(30);
  // Whether the client stops believing when the lease's lost signal fires.
  bool heed_lost = true;
  Duration session_timeout = std::chrono::seconds(4);
  // One per session the algorithm needs; most algorithms use one store.
  std::vector<Store*> stores;
  // Shared by every client of the run (the `local` service's table); may be null.
  SharedRegistry* shared = nullptr;
  ResourceConfig resource;
  // The store of a separate resource; null means stores[0] (a second session there).
  Store* resource_store = nullptr;
  // The session timeout a separate resource session asks for; zero means
  // session_timeout. A storage service's connection usually outlives a lock session's
  // trouble: a longer timeout lets it survive a pause that expires the lock's session,
  // which is what lets a stale holder's write reach the resource at all.
  Duration resource_session_timeout{0};
  FencingSource fencing = FencingSource::Own;
};

// Records every event of `session` into the history (as SessionChange, "<event><label>")
// until the session ends. No event is missed, even two in one instant.
Task<void> record_session_events(std::shared_ptr<Session> session, Recorder& recorder, int client,
                                 std::string label);

// Runs the whole workload of one client; returns when every cycle is done and the
// sessions are closed.
Task<void> run_client(Env& env, Recorder& recorder, WorkloadConfig config);

}  // namespace lockstep
