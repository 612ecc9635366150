#include <map>
#include <utility>

#include "core/check/checker.h"

namespace lockstep {

namespace {

constexpr size_t kMaxDetails = 50;

struct ClientRecord {
  int acquired = 0;
  bool done = false;
  const HistoryEvent* last = nullptr;
};

std::string plural(size_t n, const std::string& one, const std::string& many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

Verdict check_liveness(const History& h, const LivenessInput& in) {
  Verdict v;
  v.checker = "liveness";
  if (in.faults) {
    v.summary = "not applicable: faults injected";
    return v;
  }

  std::map<int, ClientRecord> clients;
  for (int c = 0; c < in.clients; ++c) clients[c];
  std::vector<std::pair<std::string, int>> failures;  // each with its client
  for (const auto& e : h.events()) {
    auto it = clients.find(e.client);
    if (it == clients.end()) continue;
    ClientRecord& r = it->second;
    r.last = &e;
    if (e.kind == EventKind::Acquired) ++r.acquired;
    if (e.kind == EventKind::ClientDone) r.done = true;
    if (e.kind == EventKind::AcquireFailed)
      failures.emplace_back("client " + std::to_string(e.client) + ": acquire failed at " +
                                format_instant(e.lo) +
                                (e.detail.empty() ? std::string() : ": " + e.detail),
                            e.client);
  }

  size_t short_clients = 0, unfinished = 0;
  std::vector<std::string> details;
  std::vector<int> named;  // the client each line of `details` is about, -1 for none
  for (const auto& [c, r] : clients) {
    if (r.acquired == in.cycles && r.done) continue;
    std::string line = "client " + std::to_string(c) + ": acquired the lock in " +
                       std::to_string(r.acquired) + " of " + std::to_string(in.cycles) + " cycles";
    if (r.acquired != in.cycles) ++short_clients;
    if (!r.done) {
      ++unfinished;
      line += ", not finished at " + format_instant(in.end);
      if (r.last)
        line += " (last event: " + std::string(event_kind_name(r.last->kind)) + " at " +
                format_instant(r.last->lo) + ")";
      else
        line += " (no event recorded)";
    }
    details.push_back(line);
    named.push_back(c);
  }
  for (const auto& [line, client] : failures) {
    details.push_back(line);
    named.push_back(client);
  }
  for (const auto& node : in.leftover_nodes) {
    details.push_back("lock node left after every session closed: " + node);
    named.push_back(-1);
  }

  if (details.empty()) {
    v.summary = "holds: " + plural(static_cast<size_t>(in.clients), "client", "clients") +
                " completed " + plural(static_cast<size_t>(in.cycles), "cycle", "cycles") +
                " each, no lock node left";
    return v;
  }
  v.ok = false;
  std::vector<std::string> parts;
  if (unfinished) parts.push_back(plural(unfinished, "client unfinished", "clients unfinished"));
  if (short_clients)
    parts.push_back(plural(short_clients, "client short of its cycles", "clients short of cycles"));
  if (!failures.empty())
    parts.push_back(plural(failures.size(), "failed acquire", "failed acquires"));
  if (!in.leftover_nodes.empty())
    parts.push_back(plural(in.leftover_nodes.size(), "lock node left", "lock nodes left"));
  v.summary = "VIOLATED: ";
  for (size_t i = 0; i < parts.size(); ++i) v.summary += (i ? ", " : "") + parts[i];
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
