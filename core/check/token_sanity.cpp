#include <algorithm>
#include <map>

#include "core/check/checker.h"

namespace lockstep {

namespace {

constexpr size_t kMaxDetails = 50;

struct Grant {
  int client = -1;
  uint64_t token = 0;
  Time from{0};  // the earliest it can have happened: its AcquireStart
  Time at{0};    // the latest: its Acquired
};

std::string describe(const Grant& g) {
  return "client " + std::to_string(g.client) + " granted token " + std::to_string(g.token) +
         " in [" + format_instant(g.from) + ", " + format_instant(g.at) + "]";
}

}  // namespace

Verdict check_token_sanity(const History& h) {
  Verdict v;
  v.checker = "token-sanity";

  std::vector<Grant> grants;
  size_t without = 0;
  std::map<int, Time> waiting_since;  // client -> its pending AcquireStart
  for (const auto& e : h.events()) {
    if (e.kind == EventKind::AcquireStart) waiting_since[e.client] = e.lo;
    if (e.kind == EventKind::ClientStart || e.kind == EventKind::ClientCrashed ||
        e.kind == EventKind::AcquireFailed)
      waiting_since.erase(e.client);
    if (e.kind != EventKind::Acquired) continue;
    auto it = waiting_since.find(e.client);
    const Time from = it != waiting_since.end() ? it->second : e.lo;
    if (it != waiting_since.end()) waiting_since.erase(it);
    if (!e.token) {
      ++without;
      continue;
    }
    grants.push_back(Grant{e.client, *e.token, from, e.hi});
  }

  // Each finding with the two clients whose grants it names.
  struct Finding {
    std::string text;
    int first = -1;
    int second = -1;
  };
  std::vector<Finding> reused, reordered;
  // Reuse: a token handed out by two grants.
  std::map<uint64_t, const Grant*> first_with;
  for (const Grant& g : grants) {
    auto [it, fresh] = first_with.emplace(g.token, &g);
    if (!fresh)
      reused.push_back({.text = "token " + std::to_string(g.token) +
                                " reused: " + describe(*it->second) + ", " + describe(g),
                        .first = it->second->client,
                        .second = g.client});
  }
  // Order: sweep the grants by `from`; every grant certainly over by then (at < from)
  // must have had a lower token.
  std::vector<const Grant*> by_from, by_at;
  for (const Grant& g : grants) {
    by_from.push_back(&g);
    by_at.push_back(&g);
  }
  std::stable_sort(by_from.begin(), by_from.end(),
                   [](const Grant* a, const Grant* b) { return a->from < b->from; });
  std::stable_sort(by_at.begin(), by_at.end(),
                   [](const Grant* a, const Grant* b) { return a->at < b->at; });
  const Grant* highest = nullptr;
  size_t next = 0;
  for (const Grant* g : by_from) {
    while (next < by_at.size() && by_at[next]->at < g->from) {
      if (!highest || by_at[next]->token > highest->token) highest = by_at[next];
      ++next;
    }
    if (highest && highest->token > g->token)
      reordered.push_back(
          {.text = "token went down: " + describe(*g) + ", after " + describe(*highest),
           .first = g->client,
           .second = highest->client});
  }

  const std::string counts =
      std::to_string(grants.size()) + " grants with tokens" +
      (without ? ", " + std::to_string(without) + " without" : std::string());
  if (reused.empty() && reordered.empty()) {
    v.summary = "holds: " + counts + ", all distinct, increasing in grant order";
    return v;
  }
  v.ok = false;
  std::vector<std::string> parts;
  if (!reused.empty()) parts.push_back(std::to_string(reused.size()) + " tokens reused");
  if (!reordered.empty())
    parts.push_back(std::to_string(reordered.size()) +
                    " grants with a lower token than an earlier one");
  v.summary = "VIOLATED: ";
  for (size_t i = 0; i < parts.size(); ++i) v.summary += (i ? ", " : "") + parts[i];
  v.summary += " (" + (reused.empty() ? reordered.front() : reused.front()).text + ")";
  for (auto* list : {&reused, &reordered})
    for (const Finding& d : *list)
      if (v.details.size() < kMaxDetails) {
        v.details.push_back(d.text);
        name_client(v, d.first);
        name_client(v, d.second);
      }
  const size_t total = reused.size() + reordered.size();
  if (total > kMaxDetails)
    v.details.push_back("... and " + std::to_string(total - kMaxDetails) + " more");
  return v;
}

}  // namespace lockstep
