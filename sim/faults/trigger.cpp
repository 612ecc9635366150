#include "sim/faults/trigger.h"

#include <cctype>

#include "sim/scenario_json.h"

namespace lockstep::sim {

namespace {

using namespace scenario_json;

// The workload's own events: what a narrative counts from.
constexpr EventKind kTriggerEvents[] = {EventKind::AcquireStart,  EventKind::Acquired,
                                        EventKind::AcquireFailed, EventKind::LostObserved,
                                        EventKind::ReleaseStart,  EventKind::Released,
                                        EventKind::ResourceRead,  EventKind::ResourceWrite};

std::optional<EventKind> trigger_event(const std::string& name) {
  for (EventKind k : kTriggerEvents)
    if (event_kind_name(k) == name) return k;
  return std::nullopt;
}

}  // namespace

const std::vector<std::string>& trigger_event_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (EventKind k : kTriggerEvents) out.emplace_back(event_kind_name(k));
    return out;
  }();
  return names;
}

std::optional<RelativeAt> parse_relative_at(const std::string& text, const std::string& path) {
  if (text.empty() || !std::isalpha(static_cast<unsigned char>(text[0]))) return std::nullopt;
  RelativeAt out;
  std::string head = text;
  if (size_t plus = text.find('+'); plus != std::string::npos) {
    head = text.substr(0, plus);
    out.offset = read_duration(json(text.substr(plus + 1)), path, Sign::NonNegative);
  }
  std::string name = head;
  if (size_t hash = head.find('#'); hash != std::string::npos) {
    name = head.substr(0, hash);
    const std::optional<int> nth = read_ordinal(std::string_view(head).substr(hash + 1));
    if (!nth)
      fail(path, "the event count after '#' must be a whole number from 1 to 1000000, got " +
                     show(json(text)));
    out.trigger.nth = *nth;
  }
  std::optional<EventKind> kind = trigger_event(name);
  if (!kind)
    fail(path, "must be a duration or EVENT[#N][+DURATION] with EVENT one of " +
                   join(trigger_event_names()) + ", got " + show(json(text)));
  out.trigger.event = *kind;
  return out;
}

std::string format_relative_at(const FaultTrigger& t, Duration offset) {
  std::string out(event_kind_name(t.event));
  if (t.nth != 1) out += "#" + std::to_string(t.nth);
  if (offset != Duration(0)) out += "+" + format_duration(offset);
  return out;
}

std::string format_at(const Fault& f) {
  if (!f.after) return format_duration(f.at);
  return format_relative_at(*f.after, Duration(f.at));
}

}  // namespace lockstep::sim
