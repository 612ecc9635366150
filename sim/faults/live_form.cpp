#include "sim/faults/live_form.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "sim/faults/table.h"
#include "sim/faults/trigger.h"
#include "sim/scenario_json.h"

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
    case LiveParam::Direction:
      return "DIRECTION";
    case LiveParam::Probability:
      return "PROBABILITY";
    case LiveParam::Min:
      return "MIN";
    case LiveParam::Max:
      return "MAX";
    case LiveParam::Server:
      return "SERVER";
    case LiveParam::Change:
      return "CHANGE";
  }
  return "?";
}

const std::vector<std::string> kDirections = {"both", "to_server", "from_server"};

double read_probability(const std::string& fault, const std::string& text) {
  char* end = nullptr;
  const double p = text.empty() ? -1 : std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !std::isfinite(p) || p < 0 || p > 1)
    throw std::invalid_argument("--fault " + fault + ": \"" + text +
                                "\" is not a probability from 0 to 1");
  return p;
}

int read_server(const std::string& fault, const std::string& text) {
  if (text.empty() || text.size() > 4 || text.find_first_not_of("0123456789") != std::string::npos)
    throw std::invalid_argument("--fault " + fault + ": server \"" + text +
                                "\" is not an index (0 is the first server of the first --store)");
  return std::atoi(text.c_str());
}

// A drift as the scenario writes one ("+50%", "-500ppm"), or a signed jump ("+2s").
void read_change(const std::string& fault, const std::string& text, LiveFault& f) {
  const nlohmann::json v = text;
  try {
    if (text.ends_with("%") || text.ends_with("ppm"))
      f.drift_ppm = scenario_json::read_drift(v, "CHANGE");
    else
      f.jump = scenario_json::read_signed_duration(v, "CHANGE");
  } catch (const ScenarioError&) {
    throw std::invalid_argument("--fault " + fault + ": \"" + text +
                                "\" is not a clock drift (+50%, -500ppm) or jump (+2s, -1s)");
  }
}

Duration read_duration(const std::string& fault, const std::string& text) {
  auto d = parse_duration(text);
  if (!d) throw std::invalid_argument("--fault " + fault + ": \"" + text + "\" is not a duration");
  if (*d > kMaxInputDuration)
    throw std::invalid_argument("--fault " + fault + ": \"" + text + "\" is longer than " +
                                kMaxInputDurationText);
  return *d;
}

void read_client(const std::string& fault, const std::string& text, int clients, bool all_ok,
                 LiveFault& f) {
  if (all_ok && text == "all") {
    f.who = LiveFault::Who::All;
    return;
  }
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
                                "\" is not holder, waiter" + (all_ok ? ", all" : "") + " or 0.." +
                                std::to_string(clients - 1));
  f.who = LiveFault::Who::Index;
  f.client = std::atoi(text.c_str());
}

// AT: a duration from the run's start, or EVENT[#N][+DURATION] as a scenario's "at".
void read_at(const std::string& fault, const std::string& text, LiveFault& f) {
  std::optional<RelativeAt> relative;
  try {
    relative = parse_relative_at(text, "at");
  } catch (const ScenarioError& e) {
    throw std::invalid_argument("--fault " + fault + ": " + e.message);
  }
  if (!relative) {
    f.at = read_duration(fault, text);
    return;
  }
  f.after = relative->trigger;
  f.at = relative->offset;
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
  bool max_given = false;
  for (size_t i = 0; i < given; ++i) {
    const std::string& value = parts[i + 1];
    switch (d->live.params[i]) {
      case LiveParam::Client:
        read_client(text, value, clients, d->live.all_clients, f);
        break;
      case LiveParam::At:
        read_at(text, value, f);
        break;
      case LiveParam::For:
        f.length = read_duration(text, value);
        break;
      case LiveParam::RestartAfter:
        f.restart_after = read_duration(text, value);
        break;
      case LiveParam::Direction:
        if (std::find(kDirections.begin(), kDirections.end(), value) == kDirections.end())
          throw std::invalid_argument("--fault " + text + ": direction \"" + value +
                                      "\" is not both, to_server or from_server");
        f.direction = value;
        break;
      case LiveParam::Probability:
        f.probability = read_probability(text, value);
        break;
      case LiveParam::Min:
        f.latency_min = f.latency_max = read_duration(text, value);
        break;
      case LiveParam::Max:
        f.latency_max = read_duration(text, value);
        max_given = true;
        break;
      case LiveParam::Server:
        f.server = read_server(text, value);
        break;
      case LiveParam::Change:
        read_change(text, value, f);
        break;
    }
  }
  // As in a scenario: a fault that names a client counts that client's events.
  if (f.after && !f.after->client && f.who == LiveFault::Who::Index) f.after->client = f.client;
  if (max_given && f.latency_max < f.latency_min)
    throw std::invalid_argument("--fault " + text + ": MAX " + format_duration(f.latency_max) +
                                " is below MIN " + format_duration(f.latency_min));
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
        out += ":" + (f.after ? format_relative_at(*f.after, f.at) : format_duration(f.at));
        break;
      case LiveParam::For:
        out += ":" + format_duration(f.length);
        break;
      case LiveParam::RestartAfter:
        if (f.restart_after) out += ":" + format_duration(*f.restart_after);
        break;
      case LiveParam::Direction:
        out += ":" + f.direction;
        break;
      case LiveParam::Probability: {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%g", f.probability);
        out += std::string(":") + buf;
        break;
      }
      case LiveParam::Min:
        out += ":" + format_duration(f.latency_min);
        break;
      case LiveParam::Max:
        out += ":" + format_duration(f.latency_max);
        break;
      case LiveParam::Server:
        if (f.server) out += ":" + std::to_string(*f.server);
        break;
      case LiveParam::Change:
        if (f.drift_ppm)
          out += ":" + drift_text(*f.drift_ppm);
        else if (f.jump)
          out += std::string(":") + (f.jump->count() >= 0 ? "+" : "") + format_duration(*f.jump);
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
  // The holder of the Nth grant and the holder on a store are the simulator's alone so far.
  if (sf.target && (sf.target->kind == Target::Kind::NthHolder ||
                    sf.target->kind == Target::Kind::HolderOnStore))
    return std::nullopt;
  LiveFault f{.kind = d.kind, .name = std::string(d.name)};
  if (live_names_client(sf.kind) && !sf.target && d.live.all_clients) {
    f.who = LiveFault::Who::All;
  } else if (live_names_client(sf.kind)) {
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
  f.after = sf.after;
  f.length = sf.length.value_or(Duration(0));
  f.restart_after = sf.restart_after;
  f.direction = sf.direction;
  f.probability = sf.probability;
  f.latency_min = sf.latency.min;
  f.latency_max = sf.latency.max;
  f.store = sf.store;
  f.drift_ppm = sf.clock.drift_ppm;
  f.jump = sf.clock.jump;
  return f;
}

bool live_names_client(FaultKind kind) {
  const auto& params = fault_descriptor(kind).live.params;
  return std::find(params.begin(), params.end(), LiveParam::Client) != params.end();
}

}  // namespace lockstep::sim
