#include "core/check/checker.h"

namespace lockstep {

std::string write_when(const HistoryEvent& write) {
  if (write.applied) return "applied at " + format_instant(*write.applied);
  return "completed at " + format_instant(write.lo);
}

std::string write_times(const HistoryEvent& write) {
  const std::string when = write_when(write);
  if (!write.issued) return when;
  return "issued at " + format_instant(*write.issued) + ", " + when;
}

}  // namespace lockstep
