#include "core/history.h"

namespace lockstep {

std::string_view event_kind_name(EventKind k) {
  switch (k) {
    case EventKind::ClientStart: return "client_start";
    case EventKind::AcquireStart: return "acquire_start";
    case EventKind::Acquired: return "acquired";
    case EventKind::AcquireFailed: return "acquire_failed";
    case EventKind::LostObserved: return "lost_observed";
    case EventKind::ReleaseStart: return "release_start";
    case EventKind::Released: return "released";
    case EventKind::ResourceRead: return "resource_read";
    case EventKind::ResourceWrite: return "resource_write";
    case EventKind::SessionChange: return "session";
    case EventKind::ClientDone: return "client_done";
    case EventKind::ClientCrashed: return "client_crashed";
    case EventKind::Fault: return "fault";
    case EventKind::Note: return "note";
  }
  return "unknown";
}

int client_in_role(const std::vector<HistoryEvent>& events, int clients, ClientRole role) {
  const bool holder = role == ClientRole::Holder;
  std::vector<bool> in_role(static_cast<size_t>(clients > 0 ? clients : 0), false);
  for (const HistoryEvent& e : events) {
    if (e.client < 0 || e.client >= clients) continue;
    switch (e.kind) {
      case EventKind::Acquired:
        in_role[e.client] = holder;
        break;
      case EventKind::AcquireStart:
        in_role[e.client] = !holder;
        break;
      case EventKind::LostObserved:
      case EventKind::ReleaseStart:
      case EventKind::AcquireFailed:
      case EventKind::ClientCrashed:
      case EventKind::ClientStart:
      case EventKind::ClientDone:
        in_role[e.client] = false;
        break;
      default:
        break;
    }
  }
  for (size_t i = 0; i < in_role.size(); ++i)
    if (in_role[i]) return static_cast<int>(i);
  return -1;
}

}  // namespace lockstep
