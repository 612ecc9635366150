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

}  // namespace lockstep
