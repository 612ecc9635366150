#include <algorithm>
#include <map>

#include "core/check/checker.h"

namespace lockstep {

namespace {

constexpr size_t kMaxDetails = 50;

std::string who(const HistoryEvent& e) {
  return "client " + std::to_string(e.client) + " (" +
         (e.token ? "token " + std::to_string(*e.token) : std::string("no token")) + "), " +
         write_times(e);
}

}  // namespace

Verdict check_lost_update(const History& h, const LostUpdateInput& in) {
  Verdict v;
  v.checker = "lost-update";

  int64_t accepted = 0, unknown = 0, refused = 0, grants = 0;
  // Accepted writes by the value they wrote: two of them writing the same value read the
  // same counter, so one increment overwrote the other.
  std::map<int64_t, std::vector<const HistoryEvent*>> by_value;
  // Clients between a successful read and the write that would follow it. A crash there
  // (or the end of the history) may have cut off a write already sent, which then
  // applied with nobody to record it: such a write counts as one of unknown outcome.
  std::map<int, bool> may_write;
  const auto& events = h.events();
  for (size_t i = 0; i < events.size(); ++i) {
    const HistoryEvent& e = events[i];
    if (e.kind == EventKind::Acquired) ++grants;
    if (e.kind == EventKind::ResourceRead) may_write[e.client] = e.value.has_value();
    if (e.kind == EventKind::LostObserved || e.kind == EventKind::ReleaseStart)
      may_write[e.client] = false;
    if (e.kind == EventKind::ClientCrashed || e.kind == EventKind::ClientStart) {
      if (may_write[e.client]) ++unknown;
      may_write[e.client] = false;
    }
    if (e.kind != EventKind::ResourceWrite) continue;
    may_write[e.client] = false;
    if (!e.outcome) return missing_field(v.checker, h, i, "write outcome");
    if (*e.outcome == WriteOutcome::Accepted) {
      ++accepted;
      by_value[e.value.value_or(0)].push_back(&e);
    } else if (*e.outcome == WriteOutcome::Unknown) {
      ++unknown;
    } else {
      ++refused;
    }
  }

  for (const auto& [client, pending] : may_write) unknown += pending;

  std::string counts = std::to_string(accepted) + " accepted increments (" +
                       std::to_string(grants) + " grants, " + std::to_string(refused) +
                       " writes refused or failed";
  if (unknown) counts += ", " + std::to_string(unknown) + " of unknown outcome";
  counts += ")";

  if (!in.final_error.empty()) {
    v.ok = false;
    v.summary = "VIOLATED: the final counter could not be read: " + in.final_error;
    return v;
  }
  const int64_t final_value = in.final_value.value_or(0);
  const std::string final_text =
      "final value " + std::to_string(final_value) + (in.final_value ? "" : " (no resource node)");

  for (const auto& [value, writers] : by_value) {
    if (writers.size() < 2) continue;
    std::string line = "value " + std::to_string(value) + " written by " + who(*writers[0]);
    for (size_t i = 1; i < writers.size(); ++i) line += " and " + who(*writers[i]);
    line += ": they read the same counter, " + std::to_string(writers.size() - 1) +
            (writers.size() == 2 ? " increment" : " increments") + " overwritten";
    if (v.details.size() < kMaxDetails) {
      v.details.push_back(line);
      for (const HistoryEvent* w : writers) name_client(v, w->client);
    }
  }

  if (final_value < accepted) {
    v.ok = false;
    v.summary = "VIOLATED: " + final_text + ", " + counts + ": " +
                std::to_string(accepted - final_value) + " lost";
  } else if (final_value > accepted + unknown) {
    v.ok = false;
    v.summary = "VIOLATED: " + final_text + ", " + counts + ": " +
                std::to_string(final_value - accepted - unknown) + " more than the writes explain";
  } else {
    // Equal values written twice with the counter still right can only come from
    // writes of unknown outcome that did not apply; not a loss.
    v.summary = "holds: " + final_text + ", " + counts;
    v.details.clear();
    v.clients.clear();
  }
  return v;
}

}  // namespace lockstep
