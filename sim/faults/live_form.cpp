#include "sim/faults/live_form.h"

#include <algorithm>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "sim/faults/table.h"

namespace lockstep::sim {

namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string item;
  std::istringstream in(s);
  while (std::getline(in, item, sep)) out.push_back(item);
  if (!s.empty() && s.back() == sep) out.emplace_back();
  return out;
}

std::string param_name(LiveParam p) {
  switch (p) {
    case LiveParam::Client:
      return "CLIENT";
    case LiveParam::At:
      return "AT";
    case LiveParam::For:
      return "FOR";
    case LiveParam::RestartAfter:
      return "RESTART_AFTER";
  }
  return "?";
}

Duration read_duration(const std::string& fault, const std::string& text) {
  auto d = parse_duration(text);
  if (!d) throw std::invalid_argument("--fault " + fault + ": \"" + text + "\" is not a duration");
  if (*d > kMaxInputDuration)
    throw std::invalid_argument("--fault " + fault + ": \"" + text + "\" is longer than " +
                                kMaxInputDurationText);
  return *d;
}

void read_client(const std::string& fault, const std::string& text, int clients, LiveFault& f) {
  if (text == "holder") {
    f.who = LiveFault::Who::Holder;
    return;
  }
  if (text == "waiter") {
    f.who = LiveFault::Who::Waiter;
    return;
  }
  if (text.empty() || text.size() > 9 ||
      text.find_first_not_of("0123456789") != std::string::npos ||
      std::atoi(text.c_str()) >= clients)
    throw std::invalid_argument("--fault " + fault + ": client \"" + text +
                                "\" is not holder, waiter or 0.." + std::to_string(clients - 1));
  f.who = LiveFault::Who::Index;
  f.client = std::atoi(text.c_str());
}

std::string known_forms() {
  std::vector<std::string> forms;
  for (const FaultDescriptor* d : fault_table())
    if (!d->live.params.empty()) forms.push_back(live_usage(*d));
  std::string out;
  for (size_t i = 0; i < forms.size(); ++i)
    out += (i == 0 ? "" : i + 1 == forms.size() ? " or " : ", ") + forms[i];
  return out;
}

}  // namespace

LiveFault parse_live_fault(const std::string& text, int clients) {
  const auto parts = split(text, ':');
  const FaultDescriptor* d = parts.empty() ? nullptr : find_fault_or_alias(parts[0]);
  const size_t given = parts.empty() ? 0 : parts.size() - 1;
  if (!d || d->live.params.empty() || given < d->live.required || given > d->live.params.size())
    throw std::invalid_argument("--fault: \"" + text + "\" is not " + known_forms());
  LiveFault f{.kind = d->kind, .name = std::string(d->name)};
  for (size_t i = 0; i < given; ++i) {
    const std::string& value = parts[i + 1];
    switch (d->live.params[i]) {
      case LiveParam::Client:
        read_client(text, value, clients, f);
        break;
      case LiveParam::At:
        f.at = read_duration(text, value);
        break;
      case LiveParam::For:
        f.length = read_duration(text, value);
        break;
      case LiveParam::RestartAfter:
        f.restart_after = read_duration(text, value);
        break;
    }
  }
  return f;
}

std::string live_fault_text(const LiveFault& f) {
  const FaultDescriptor& d = fault_descriptor(f.kind);
  std::string out(d.name);
  for (LiveParam p : d.live.params) {
    switch (p) {
      case LiveParam::Client:
        out += ":" + who_text(f);
        break;
      case LiveParam::At:
        out += ":" + format_duration(f.at);
        break;
      case LiveParam::For:
        out += ":" + format_duration(f.length);
        break;
      case LiveParam::RestartAfter:
        if (f.restart_after) out += ":" + format_duration(*f.restart_after);
        break;
    }
  }
  return out;
}

std::string live_usage(const FaultDescriptor& d) {
  std::string out(d.name);
  for (size_t i = 0; i < d.live.params.size(); ++i)
    out += (i < d.live.required ? ":" : "[:") + param_name(d.live.params[i]);
  for (size_t i = d.live.required; i < d.live.params.size(); ++i) out += "]";
  return out;
}

std::string live_help(size_t indent) {
  const std::string pad(indent, ' ');
  std::string out;
  for (const FaultDescriptor* d : fault_table()) {
    if (d->live.params.empty()) continue;
    std::string usage = live_usage(*d);
    usage += std::string(usage.size() < 36 ? 36 - usage.size() : 1, ' ');
    out += pad + usage + std::string(d->live.help) + "\n";
    for (std::string_view alias : d->aliases)
      out += pad + "  (also " + std::string(alias) + ":...)\n";
  }
  return out;
}

std::optional<LiveFault> live_form(const Fault& sf) {
  const FaultDescriptor& d = fault_descriptor(sf.kind);
  if (d.live.params.empty() || (d.live.usable && !d.live.usable(sf))) return std::nullopt;
  // Times that count from an event, and the holder of the Nth grant, are the simulator's
  // alone so far: a live run schedules its faults by the clock.
  if (sf.after) return std::nullopt;
  if (sf.target && sf.target->kind == Target::Kind::NthHolder) return std::nullopt;
  LiveFault f{.kind = d.kind, .name = std::string(d.name)};
  if (live_names_client(sf.kind)) {
    if (!sf.target || sf.target->kind == Target::Kind::Server) return std::nullopt;
    switch (sf.target->kind) {
      case Target::Kind::Holder:
        f.who = LiveFault::Who::Holder;
        break;
      case Target::Kind::Waiter:
        f.who = LiveFault::Who::Waiter;
        break;
      default:
        f.who = LiveFault::Who::Index;
        f.client = sf.target->index;
    }
  }
  f.at = sf.at;
  f.length = sf.length.value_or(Duration(0));
  f.restart_after = sf.restart_after;
  return f;
}

bool live_names_client(FaultKind kind) {
  const auto& params = fault_descriptor(kind).live.params;
  return std::find(params.begin(), params.end(), LiveParam::Client) != params.end();
}

}  // namespace lockstep::sim
