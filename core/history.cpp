#include "core/history.h"

#include <algorithm>

namespace lockstep {

std::string_view event_kind_name(EventKind k) {
  switch (k) {
    case EventKind::ClientStart:
      return "client_start";
    case EventKind::AcquireStart:
      return "acquire_start";
    case EventKind::Acquired:
      return "acquired";
    case EventKind::AcquireFailed:
      return "acquire_failed";
    case EventKind::LostObserved:
      return "lost_observed";
    case EventKind::RenewStart:
      return "renew_start";
    case EventKind::Renewed:
      return "renewed";
    case EventKind::ReleaseStart:
      return "release_start";
    case EventKind::Released:
      return "released";
    case EventKind::ResourceRead:
      return "resource_read";
    case EventKind::ResourceWrite:
      return "resource_write";
    case EventKind::SessionChange:
      return "session";
    case EventKind::ClientDone:
      return "client_done";
    case EventKind::ClientCrashed:
      return "client_crashed";
    case EventKind::Fault:
      return "fault";
    case EventKind::Note:
      return "note";
  }
  return "unknown";
}

std::string_view write_outcome_name(WriteOutcome o) {
  switch (o) {
    case WriteOutcome::Accepted:
      return "accepted";
    case WriteOutcome::Refused:
      return "refused";
    case WriteOutcome::Unknown:
      return "unknown";
    case WriteOutcome::Failed:
      return "failed";
  }
  return "unknown";
}

std::optional<WriteOutcome> parse_write_outcome(std::string_view name) {
  for (WriteOutcome o :
       {WriteOutcome::Accepted, WriteOutcome::Refused, WriteOutcome::Unknown, WriteOutcome::Failed})
    if (write_outcome_name(o) == name) return o;
  return std::nullopt;
}

std::string write_detail(WriteOutcome outcome, std::optional<int64_t> zxid,
                         std::string_view reason) {
  switch (outcome) {
    case WriteOutcome::Accepted:
      return zxid ? "zxid=" + std::to_string(*zxid) : std::string("accepted, no zxid");
    case WriteOutcome::Refused:
      return "refused: " + std::string(reason);
    case WriteOutcome::Unknown:
      return "outcome unknown: " + std::string(reason);
    case WriteOutcome::Failed:
      return "failed: " + std::string(reason);
  }
  return std::string(reason);
}

int client_in_role(const std::vector<HistoryEvent>& events, int clients, ClientRole role) {
  return RoleTracker(clients).client_in_role(events, role);
}

int RoleTracker::client_in_role(const std::vector<HistoryEvent>& events, ClientRole role) {
  if (events.size() < seen_) {  // a different history: start again
    std::fill(roles_.begin(), roles_.end(), Role::None);
    seen_ = 0;
  }
  const int clients = static_cast<int>(roles_.size());
  for (; seen_ < events.size(); ++seen_) {
    const HistoryEvent& e = events[seen_];
    if (e.client < 0 || e.client >= clients) continue;
    switch (e.kind) {
      case EventKind::Acquired:
        roles_[e.client] = Role::Holding;
        break;
      case EventKind::AcquireStart:
        roles_[e.client] = Role::Waiting;
        break;
      case EventKind::LostObserved:
      case EventKind::ReleaseStart:
      case EventKind::AcquireFailed:
      case EventKind::ClientCrashed:
      case EventKind::ClientStart:
      case EventKind::ClientDone:
        roles_[e.client] = Role::None;
        break;
      default:
        break;
    }
  }
  const Role wanted = role == ClientRole::Holder ? Role::Holding : Role::Waiting;
  for (size_t i = 0; i < roles_.size(); ++i)
    if (roles_[i] == wanted) return static_cast<int>(i);
  return -1;
}

}  // namespace lockstep
