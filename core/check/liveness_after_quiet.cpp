#include <algorithm>
#include <map>

#include "core/check/checker.h"

namespace lockstep {

namespace {

constexpr size_t kMaxDetails = 50;

struct ClientState {
  std::optional<Time> waiting_since;  // a pending AcquireStart
  bool done = false;
  bool crashed = false;  // crashed and not (yet) restarted
  const HistoryEvent* last = nullptr;
};

}  // namespace

Verdict check_liveness_after_quiet(const History& h, const QuietLivenessInput& in) {
  Verdict v;
  v.checker = "liveness-after-quiet";
  const Time settled = add_sat(in.quiet_from, in.settle);
  const std::string bound_text =
      "bound " + format_duration(in.wait_bound) + " after " + format_instant(settled);

  std::map<int, ClientState> clients;
  for (int c = 0; c < in.clients; ++c) clients[c];
  std::vector<std::string> details;
  std::vector<int> named;  // the client each line of `details` is about, -1 for none
  size_t slow = 0, failed = 0;
  for (const auto& e : h.events()) {
    auto it = clients.find(e.client);
    if (it == clients.end()) continue;
    ClientState& c = it->second;
    c.last = &e;
    switch (e.kind) {
      case EventKind::AcquireStart:
        c.waiting_since = e.lo;
        break;
      case EventKind::Acquired:
        if (c.waiting_since) {
          // Only the part of the wait after `settled` is timed.
          const Time from = std::max(*c.waiting_since, settled);
          if (e.hi > settled && e.hi - from > in.wait_bound) {
            ++slow;
            named.push_back(e.client);
            details.push_back("client " + std::to_string(e.client) + " waited from " +
                              format_instant(*c.waiting_since) + " to " + format_instant(e.hi) +
                              " for the lock (" + bound_text + ")");
          }
        }
        c.waiting_since.reset();
        break;
      case EventKind::AcquireFailed:
        if (e.lo >= settled) {
          ++failed;
          named.push_back(e.client);
          details.push_back("client " + std::to_string(e.client) + ": acquire failed at " +
                            format_instant(e.lo) + ", after the faults stopped" +
                            (e.detail.empty() ? std::string() : ": " + e.detail));
        }
        c.waiting_since.reset();
        break;
      case EventKind::ClientCrashed:
        c.crashed = true;
        c.done = false;
        c.waiting_since.reset();
        break;
      case EventKind::ClientStart:
        c.crashed = false;
        c.done = false;
        c.waiting_since.reset();
        break;
      case EventKind::ClientDone:
        c.done = true;
        break;
      default:
        break;
    }
  }

  size_t stuck = 0, still_working = 0, down = 0;
  bool all_done = true;
  for (const auto& [id, c] : clients) {
    if (c.crashed) {
      ++down;
      all_done = false;
      continue;
    }
    if (c.done) continue;
    all_done = false;
    if (c.waiting_since) {
      const Time from = std::max(*c.waiting_since, settled);
      if (in.end - from > in.wait_bound) {
        ++stuck;
        named.push_back(id);
        details.push_back("client " + std::to_string(id) + " waiting for the lock since " +
                          format_instant(*c.waiting_since) + ", still not granted at " +
                          format_instant(in.end) + " (" + bound_text + ")");
        continue;
      }
    }
    const Time last = c.last ? c.last->lo : Time(0);
    if (in.end - std::max(last, settled) > in.wait_bound) {
      ++stuck;
      named.push_back(id);
      details.push_back(
          "client " + std::to_string(id) + " unfinished and silent since " + format_instant(last) +
          (c.last ? " (last event: " + std::string(event_kind_name(c.last->kind)) + ")"
                  : std::string(" (no event recorded)")) +
          ", the run ended at " + format_instant(in.end));
    } else {
      ++still_working;
    }
  }
  if (all_done)
    for (const auto& node : in.leftover_nodes) {
      details.push_back("lock node left after every session closed: " + node);
      named.push_back(-1);
    }

  std::string notes;
  if (still_working)
    notes += "; " + std::to_string(still_working) + " clients still working when the run ended";
  if (down) notes += "; " + std::to_string(down) + " clients down for good (exempt)";

  if (details.empty() && in.end < settled && !all_done) {
    // Nothing was timed yet: the clients still at work may yet get stuck.
    v.summary = "not applicable: the run ended at " + format_instant(in.end) +
                ", before the quiet phase settled at " + format_instant(settled);
    return v;
  }
  if (details.empty() && all_done && in.end < settled) {
    v.summary = "holds: every client finished at " + format_instant(in.end) +
                ", before the quiet phase settled, and no lock node is left";
    return v;
  }
  if (details.empty()) {
    v.summary = "holds: after the faults stopped at " + format_instant(in.quiet_from) +
                " every wait ended within the " + bound_text + notes;
    return v;
  }
  v.ok = false;
  std::vector<std::string> parts;
  if (slow) parts.push_back(std::to_string(slow) + " waits over the bound");
  if (failed) parts.push_back(std::to_string(failed) + " failed acquires");
  if (stuck) parts.push_back(std::to_string(stuck) + " clients stuck");
  if (all_done && !in.leftover_nodes.empty())
    parts.push_back(std::to_string(in.leftover_nodes.size()) + " lock nodes left");
  v.summary = "VIOLATED: ";
  for (size_t i = 0; i < parts.size(); ++i) v.summary += (i ? ", " : "") + parts[i];
  v.summary += " (faults stopped at " + format_instant(in.quiet_from) + ", " + bound_text + ")";
  if (details.size() > kMaxDetails) {
    const size_t more = details.size() - kMaxDetails;
    details.resize(kMaxDetails);
    named.resize(kMaxDetails);
    details.push_back("... and " + std::to_string(more) + " more");
  }
  v.details = std::move(details);
  for (int c : named)
    if (c >= 0) name_client(v, c);
  return v;
}

}  // namespace lockstep
