#include <algorithm>

#include "core/check/checker.h"

namespace lockstep {

void name_client(Verdict& v, int client) {
  auto at = std::lower_bound(v.clients.begin(), v.clients.end(), client);
  if (at == v.clients.end() || *at != client) v.clients.insert(at, client);
}

Verdict missing_field(std::string checker, const History& h, size_t index, std::string_view field) {
  Verdict v;
  v.checker = std::move(checker);
  v.ok = false;
  const HistoryEvent& e = h.events().at(index);
  v.summary = "INTERNAL ERROR: history event " + std::to_string(index) + " (client " +
              std::to_string(e.client) + "'s " + std::string(event_kind_name(e.kind)) + " at " +
              format_instant(e.lo) + ") has no " + std::string(field) +
              ": a recording bug, the history cannot be judged";
  if (e.client >= 0) name_client(v, e.client);
  return v;
}

}  // namespace lockstep
