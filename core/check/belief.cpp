#include <algorithm>
#include <cstdio>
#include <map>

#include "core/check/checker.h"

namespace lockstep {

namespace {

bool ends_belief(EventKind k) {
  return k == EventKind::LostObserved || k == EventKind::ReleaseStart ||
         k == EventKind::ClientCrashed || k == EventKind::ClientStart || k == EventKind::ClientDone;
}

}  // namespace

Time history_end(const History& h) {
  Time end{0};
  for (const auto& e : h.events()) end = std::max(end, e.lo);
  return end;
}

std::vector<BeliefInterval> belief_intervals(const History& h, std::optional<Time> end) {
  const Time last = end ? *end : history_end(h);
  std::vector<BeliefInterval> out;
  // Per client, the belief still open. Events are taken in recording order, which is
  // each client's own order even where live stamps of different clients interleave.
  std::map<int, BeliefInterval> open;
  const auto& events = h.events();
  for (size_t i = 0; i < events.size(); ++i) {
    const HistoryEvent& e = events[i];
    if (e.client < 0) continue;
    auto it = open.find(e.client);
    if (e.kind == EventKind::Acquired) {
      // Acquired again without anything ending the last belief: the belief carries on
      // unbroken, so the earlier interval simply ends where the new one starts.
      if (it != open.end()) {
        it->second.end = e.hi;
        it->second.ended_by = EventKind::Acquired;
        it->second.ended_event = i;
        out.push_back(it->second);
        open.erase(it);
      }
      BeliefInterval b;
      b.client = e.client;
      b.token = e.token;
      b.start = e.hi;
      b.acquired_event = i;
      open.emplace(e.client, b);
    } else if (it != open.end() && ends_belief(e.kind)) {
      it->second.end = e.lo;
      it->second.ended_by = e.kind;
      it->second.ended_event = i;
      out.push_back(it->second);
      open.erase(it);
    }
  }
  for (auto& [client, b] : open) {
    b.end = std::max(last, b.start);
    b.open = true;
    out.push_back(b);
  }
  std::sort(out.begin(), out.end(), [](const BeliefInterval& a, const BeliefInterval& b) {
    if (a.start != b.start) return a.start < b.start;
    if (a.client != b.client) return a.client < b.client;
    return a.acquired_event < b.acquired_event;
  });
  return out;
}

Time effective_end(const BeliefInterval& b) { return b.open ? Time::max() : b.end; }

bool overlap(const BeliefInterval& a, const BeliefInterval& b) {
  return a.client != b.client &&
         std::max(a.start, b.start) < std::min(effective_end(a), effective_end(b));
}

std::string format_instant(Time t) {
  char buf[64];
  const int64_t ns = t.count();
  const char* sign = ns < 0 ? "-" : "";
  const uint64_t abs_ns = ns < 0 ? 0 - static_cast<uint64_t>(ns) : static_cast<uint64_t>(ns);
  // Integer arithmetic, rounded to the microsecond, so the text never depends on how a
  // platform prints doubles.
  const uint64_t us = (abs_ns + 500) / 1000;
  std::snprintf(buf, sizeof buf, "%s%llu.%06llus", sign,
                static_cast<unsigned long long>(us / 1000000),
                static_cast<unsigned long long>(us % 1000000));
  return buf;
}

}  // namespace lockstep
