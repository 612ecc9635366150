#include <algorithm>
#include <map>

#include "core/check/checker.h"

namespace lockstep {

namespace {

constexpr size_t kMaxDetails = 50;

struct Write {
  size_t index = 0;  // into History::events()
  const HistoryEvent* event = nullptr;
  int64_t zxid = 0;
  // The grant the writer held: its latest Acquired event, ranked by true time.
  std::optional<size_t> grant_rank;
  Time granted{0};
};

std::string token_text(const std::optional<uint64_t>& t) {
  return t ? "token " + std::to_string(*t) : std::string("no token");
}

std::string describe(const Write& w) {
  std::string out = "client " + std::to_string(w.event->client) + " (" +
                    token_text(w.event->token) + ", granted at " + format_instant(w.granted) +
                    ") wrote " + std::to_string(w.event->value.value_or(0)) + ", " +
                    write_times(*w.event);
  out += " (zxid " + std::to_string(w.zxid) + ")";
  return out;
}

}  // namespace

Verdict check_fencing(const History& h) {
  Verdict v;
  v.checker = "fencing";
  const auto& events = h.events();

  // Grants ranked by true time (then recording order), so "older holder" means the
  // same thing for every write.
  std::vector<size_t> grants;
  for (size_t i = 0; i < events.size(); ++i)
    if (events[i].kind == EventKind::Acquired) grants.push_back(i);
  std::stable_sort(grants.begin(), grants.end(),
                   [&](size_t a, size_t b) { return events[a].hi < events[b].hi; });
  std::map<size_t, size_t> rank_of;
  for (size_t r = 0; r < grants.size(); ++r) rank_of[grants[r]] = r;

  std::vector<Write> writes;
  size_t refused = 0, failed = 0, unknown = 0;
  std::map<int, size_t> current_grant;  // client -> its latest Acquired, in its own order
  for (size_t i = 0; i < events.size(); ++i) {
    const HistoryEvent& e = events[i];
    if (e.kind == EventKind::Acquired) current_grant[e.client] = i;
    if (e.kind == EventKind::ClientStart) current_grant.erase(e.client);
    if (e.kind != EventKind::ResourceWrite) continue;
    if (!e.outcome) return missing_field(v.checker, h, i, "write outcome");
    switch (*e.outcome) {
      case WriteOutcome::Accepted:
        break;
      case WriteOutcome::Unknown:
        ++unknown;
        continue;
      case WriteOutcome::Refused:
        ++refused;
        continue;
      case WriteOutcome::Failed:
        ++failed;
        continue;
    }
    if (!e.zxid) return missing_field(v.checker, h, i, "zxid (accepted write)");
    Write w;
    w.index = i;
    w.event = &e;
    w.zxid = *e.zxid;
    if (auto it = current_grant.find(e.client); it != current_grant.end()) {
      w.grant_rank = rank_of[it->second];
      w.granted = events[it->second].hi;
    }
    writes.push_back(w);
  }

  // The store's order.
  std::stable_sort(writes.begin(), writes.end(),
                   [](const Write& a, const Write& b) { return a.zxid < b.zxid; });

  size_t stale = 0;
  std::string first;
  const Write* highest_token = nullptr;  // the accepted write with the highest token so far
  const Write* newest_grant = nullptr;   // the accepted write of the newest grant so far
  for (const Write& w : writes) {
    const Write* blame = nullptr;
    std::string why;
    if (w.event->token && highest_token && *w.event->token < *highest_token->event->token) {
      blame = highest_token;
      why = "a lower token accepted after a higher one";
    } else if (newest_grant && w.grant_rank && newest_grant->grant_rank &&
               *w.grant_rank < *newest_grant->grant_rank &&
               (!w.event->token || !newest_grant->event->token)) {
      // Tokens cannot tell holders apart here; their grants can.
      blame = newest_grant;
      why = "an older holder's write accepted after a newer holder's";
    }
    if (blame) {
      ++stale;
      if (first.empty())
        first = "client " + std::to_string(w.event->client) + "'s write with " +
                token_text(w.event->token) + " " + write_when(*w.event) +
                " accepted after client " + std::to_string(blame->event->client) + "'s with " +
                token_text(blame->event->token) + " " + write_when(*blame->event);
      if (v.details.size() < kMaxDetails) {
        v.details.push_back(describe(w) + ", accepted after " + describe(*blame) + ": " + why);
        name_client(v, w.event->client);
        name_client(v, blame->event->client);
      }
    }
    if (w.event->token && (!highest_token || *w.event->token > *highest_token->event->token))
      highest_token = &w;
    if (w.grant_rank && (!newest_grant || *w.grant_rank > *newest_grant->grant_rank))
      newest_grant = &w;
  }
  if (stale > kMaxDetails)
    v.details.push_back("... and " + std::to_string(stale - kMaxDetails) + " more");

  const std::string counts =
      std::to_string(writes.size()) + " accepted writes, " + std::to_string(refused) + " refused" +
      (failed ? ", " + std::to_string(failed) + " failed" : std::string()) +
      (unknown ? ", " + std::to_string(unknown) + " of unknown outcome" : std::string());
  if (stale == 0) {
    v.summary = "holds: " + counts + ", never an older holder's after a newer one's";
  } else {
    v.ok = false;
    v.summary =
        "VIOLATED: " + std::to_string(stale) + " stale writes accepted (" + first + "); " + counts;
  }
  return v;
}

}  // namespace lockstep
