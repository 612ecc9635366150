#include "sim/scenario.h"

#include <cerrno>
#include <charconv>
#include <climits>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string_view>

#include "core/json.h"
#include "core/lock.h"
#include "sim/faults/table.h"
#include "sim/faults/trigger.h"
#include "sim/scenario_json.h"

namespace lockstep::sim {

bool Scenario::operator==(const Scenario& o) const {
  return algorithm == o.algorithm && options.all() == o.options.all() && seed == o.seed &&
         clients == o.clients && session_timeout == o.session_timeout && lock_path == o.lock_path &&
         workload == o.workload && network == o.network && server == o.server &&
         faults == o.faults && nemesis == o.nemesis && resource == o.resource &&
         fencing == o.fencing && duration == o.duration;
}

namespace {

using namespace scenario_json;

constexpr int kMaxClients = 100000;
const std::vector<std::string> kFencing = {"czxid", "sequence", "none"};

// ZooKeeper's own path rules (PathUtils.validatePath), so a path that the simulator
// accepts is one a live ZooKeeper accepts too.
std::string lock_path_problem(const std::string& p) {
  if (p.empty() || p[0] != '/') return "must be an absolute path starting with \"/\"";
  if (p == "/") return "must not be the root \"/\"";
  if (p.back() == '/') return "must not end with \"/\"";
  size_t start = 1;
  while (start <= p.size()) {
    size_t end = p.find('/', start);
    if (end == std::string::npos) end = p.size();
    std::string_view part(p.data() + start, end - start);
    if (part.empty()) return "must not contain an empty component (\"//\")";
    if (part == "." || part == "..") return "must not contain \".\" or \"..\" components";
    start = end + 1;
  }
  // Control characters and the code points ZooKeeper refuses (U+007F..U+009F,
  // U+D800..U+F8FF, U+FFF0..U+FFFF); the JSON parser already guaranteed valid UTF-8.
  for (size_t i = 0; i < p.size();) {
    unsigned char c = p[i];
    uint32_t cp;
    size_t n;
    if (c < 0x80)
      cp = c, n = 1;
    else if (c < 0xE0)
      cp = c & 0x1F, n = 2;
    else if (c < 0xF0)
      cp = c & 0x0F, n = 3;
    else
      cp = c & 0x07, n = 4;
    for (size_t k = 1; k < n && i + k < p.size(); ++k) cp = (cp << 6) | (p[i + k] & 0x3F);
    if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || (cp >= 0xD800 && cp <= 0xF8FF) ||
        (cp >= 0xFFF0 && cp <= 0xFFFF))
      return "contains a character ZooKeeper does not allow in paths";
    i += n;
  }
  if (p == "/zookeeper" || p.starts_with("/zookeeper/"))
    return "must not be under /zookeeper, which ZooKeeper reserves";
  return "";
}

Fault read_fault(const json& entry, const std::string& path, const FaultLimits& limits) {
  Obj o(entry, path);
  const json* kind = o.find("kind");
  if (!kind) fail(path, "\"kind\" is required (one of " + join(fault_names()) + ")");
  if (!kind->is_string()) fail(o.at("kind"), "must be a string, got " + show(*kind));
  const FaultDescriptor* d = find_fault(kind->get_ref<const std::string&>());
  if (!d) fail(path, "unknown fault kind " + show(*kind) + " (known: " + join(fault_names()) + ")");
  // Every kind takes "after_client" besides its own keys: whose event a relative "at"
  // counts from.
  std::vector<std::string_view> keys = d->keys;
  keys.push_back("after_client");
  o.only(keys, " (" + std::string(d->name) + " takes " + join(keys) + ")");
  for (std::string_view key : d->required)
    if (!o.find(key))
      fail(path, "\"" + std::string(key) + "\" is required for " + std::string(d->name));

  Fault f;
  f.kind = d->kind;
  const json& at = *o.find("at");
  std::optional<RelativeAt> relative;
  if (at.is_string()) relative = parse_relative_at(at.get_ref<const std::string&>(), o.at("at"));
  if (relative) {
    f.at = Time(relative->offset);
    f.after = relative->trigger;
  } else {
    f.at = read_duration(at, o.at("at"), Sign::NonNegative);
  }
  if (const json* v = o.find("after_client")) {
    if (!f.after)
      fail(o.at("after_client"), "needs an \"at\" relative to an event (e.g. \"acquired+1s\")");
    f.after->client =
        static_cast<int>(read_integer(*v, o.at("after_client"), 0, limits.clients - 1));
  }
  d->read(o, limits, f);
  // By default a relative time counts the events of the client the fault names.
  if (f.after && !f.after->client && f.target && f.target->kind == Target::Kind::Index)
    f.after->client = f.target->index;
  return f;
}

// nlohmann keeps the last of two equal keys without a word; a file that says "faults"
// twice has lost one of them, so the duplicate is refused, named by its key path.
class DuplicateKeyCheck {
 public:
  bool on(json::parse_event_t event, const json& parsed) {
    using E = json::parse_event_t;
    switch (event) {
      case E::object_start:
      case E::array_start:
        element();
        stack_.push_back(Frame{event == E::array_start, -1, {}, {}});
        break;
      case E::object_end:
      case E::array_end:
        stack_.pop_back();
        break;
      case E::key: {
        Frame& f = stack_.back();
        f.key = parsed.get<std::string>();
        if (!f.keys.insert(f.key).second) fail(path(), "duplicate key");
        break;
      }
      case E::value:
        element();
        break;
    }
    return true;
  }

 private:
  struct Frame {
    bool array;
    long index;
    std::string key;
    std::set<std::string> keys;
  };

  void element() {
    if (!stack_.empty() && stack_.back().array) ++stack_.back().index;
  }

  std::string path() const {
    std::string p;
    for (const Frame& f : stack_)
      p = f.array ? item(p, static_cast<size_t>(f.index)) : child(p, f.key);
    return p;
  }

  std::vector<Frame> stack_;
};

json parse_json(const std::string& text) {
  // Too deep or out of range: refused before the parser (or anything walking its result)
  // sees it, naming the place.
  if (auto problem = json_limits_problem(text)) throw ScenarioError{"invalid JSON at " + *problem};
  DuplicateKeyCheck dups;
  try {
    return json::parse(
        text, [&](int, json::parse_event_t e, json& parsed) { return dups.on(e, parsed); },
        /*allow_exceptions=*/true, /*ignore_comments=*/true);
  } catch (const json::parse_error& e) {
    // what() reads "[json.exception.parse_error.101] parse error at line L, column C: ...".
    std::string what = e.what();
    size_t pos = what.find("at line ");
    if (pos != std::string::npos) throw ScenarioError{"invalid JSON " + what.substr(pos)};
    throw ScenarioError{"invalid JSON at byte " + std::to_string(e.byte) + ": " + what};
  } catch (const json::exception& e) {
    // Anything else the parser refuses (json_limits_problem should have named it first).
    throw ScenarioError{std::string("invalid JSON: ") + e.what()};
  }
}

// Options are kept as text (core/ has no JSON): a string as itself, anything else as its
// compact JSON, so 3 -> "3", 0.5 -> "0.5", true -> "true", [1,2] -> "[1,2]".
Options read_options(const Obj& o, const AlgorithmInfo* info) {
  Options options;
  for (const auto& [k, v] : o.self().items()) {
    if (v.is_null()) fail(o.at(k), "must not be null");
    options.set(k, v.is_string() ? v.get<std::string>() : v.dump());
  }
  if (info) {
    for (const auto& [key, value] : options.all()) {
      if (info->option(key)) continue;
      std::vector<std::string> keys;
      for (const OptionSpec& spec : info->options) keys.push_back(spec.key);
      std::string known =
          keys.empty() ? info->name + " takes none" : "known for " + info->name + ": " + join(keys);
      fail(o.at(key), "unknown option (" + known + ")");
    }
  }
  return options;
}

std::string known_algorithms() {
  std::vector<std::string> names;
  for (const AlgorithmInfo& a : algorithms()) names.push_back(a.name);
  return join(names);
}

// The inverse of read_options: text that is exactly the JSON of a number, boolean, array
// or object is written as that JSON, everything else as a string. Strings and null are
// excluded because they would read back as different text.
ordered_json option_value(const std::string& text) {
  if (json_limits_problem(text)) return text;
  ordered_json v = ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  bool structural = v.is_number() || v.is_boolean() || v.is_array() || v.is_object();
  if (structural && v.dump() == text) return v;
  return text;
}

ordered_json fault_json(const Fault& f) {
  const FaultDescriptor& d = fault_descriptor(f.kind);
  ordered_json j;
  j["kind"] = d.name;
  d.write(f, j);
  return j;
}

}  // namespace

Scenario parse_scenario(const std::string& json_text) {
  json doc = parse_json(json_text);
  if (!doc.is_object()) fail("scenario", "the document must be a JSON object, got " + show(doc));
  Obj top(doc, "");
  // Before the keys: a newer format may have keys this build does not know.
  if (const json* v = top.find("format")) {
    const std::string reads = "this lockstep reads format " + std::to_string(kScenarioFormat);
    if (!v->is_number_integer())
      fail("format", "must be an integer (" + reads + "), got " + show(*v));
    if (v->is_number_unsigned() && v->get<uint64_t>() > uint64_t(kScenarioFormat))
      fail("format", "the file is scenario format " + show(*v) + ", " + reads +
                         " (a newer lockstep wrote it)");
    if (v->get<int64_t>() < 1) fail("format", "must be at least 1, got " + show(*v));
  }
  top.only({"format", "algorithm", "options", "seed", "clients", "session_timeout", "lock_path",
            "workload", "network", "server", "faults", "nemesis", "resource", "fencing",
            "duration"});
  Scenario s;

  const json* algorithm = top.find("algorithm");
  if (!algorithm) fail("algorithm", "is required (known: " + known_algorithms() + ")");
  s.algorithm = read_string(*algorithm, "algorithm");
  const AlgorithmInfo* info = nullptr;
  try {
    info = &resolve_algorithm(s.algorithm);
  } catch (const UnknownAlgorithm& e) {
    fail("algorithm", e.what());
  }

  if (const json* v = top.find("options")) s.options = read_options(Obj(*v, "options"), info);
  if (const json* v = top.find("seed")) {
    if (!v->is_number_unsigned()) fail("seed", "must be an unsigned integer, got " + show(*v));
    s.seed = v->get<uint64_t>();
  }
  if (const json* v = top.find("clients"))
    s.clients = static_cast<int>(read_integer(*v, "clients", 1, kMaxClients));
  if (const json* v = top.find("session_timeout"))
    s.session_timeout = read_millis(*v, "session_timeout");
  if (const json* v = top.find("lock_path")) {
    s.lock_path = read_string(*v, "lock_path");
    std::string problem = lock_path_problem(s.lock_path);
    if (!problem.empty()) fail("lock_path", problem + ", got " + show(*v));
  }
  if (const json* v = top.find("workload")) {
    Obj o(*v, "workload");
    o.only({"cycles", "hold", "think", "acquire_timeout", "heed_lost"});
    WorkloadSpec& w = s.workload;
    if (const json* x = o.find("cycles"))
      w.cycles = static_cast<int>(read_integer(*x, o.at("cycles"), 0, INT_MAX));
    if (const json* x = o.find("hold")) w.hold = read_duration(*x, o.at("hold"), Sign::NonNegative);
    if (const json* x = o.find("think"))
      w.think = read_duration(*x, o.at("think"), Sign::NonNegative);
    if (const json* x = o.find("acquire_timeout"))
      w.acquire_timeout = read_duration(*x, o.at("acquire_timeout"), Sign::NonNegative);
    if (const json* x = o.find("heed_lost")) w.heed_lost = read_bool(*x, o.at("heed_lost"));
  }
  if (const json* v = top.find("network")) {
    Obj o(*v, "network");
    o.only({"latency"});
    if (const json* x = o.find("latency")) {
      Obj l(*x, o.at("latency"));
      l.only({"min", "max"});
      s.network.latency = read_range(l, s.network.latency);
    }
  }
  if (const json* v = top.find("server")) {
    Obj o(*v, "server");
    o.only({"tick_time", "ttl_check_interval"});
    if (const json* x = o.find("tick_time"))
      s.server.tick_time = read_millis(*x, o.at("tick_time"));
    if (const json* x = o.find("ttl_check_interval"))
      s.server.ttl_check_interval = read_duration(*x, o.at("ttl_check_interval"), Sign::Positive);
  }
  if (const json* v = top.find("resource")) {
    Obj o(*v, "resource");
    o.only({"fenced", "store"});
    s.resource.enabled = true;
    if (const json* x = o.find("fenced")) s.resource.fenced = read_bool(*x, o.at("fenced"));
    if (const json* x = o.find("store"))
      s.resource.separate_store =
          read_choice(*x, o.at("store"), {"same", "separate"}) == "separate";
  }
  if (const json* v = top.find("fencing")) s.fencing = read_choice(*v, "fencing", kFencing);
  if (const json* v = top.find("duration"))
    s.duration = read_duration(*v, "duration", Sign::Positive);
  if (const json* v = top.find("nemesis")) {
    Obj o(*v, "nemesis");
    o.only({"kinds", "mean_interval", "quiet_after"});
    s.nemesis.enabled = true;
    const json* kinds = o.find("kinds");
    if (!kinds) fail("nemesis", "\"kinds\" is required (any of " + join(fault_names()) + ")");
    if (!kinds->is_array() || kinds->empty())
      fail(o.at("kinds"), "must be a non-empty array of fault kinds, got " + show(*kinds));
    for (size_t i = 0; i < kinds->size(); ++i) {
      const json& k = (*kinds)[i];
      std::string p = item(o.at("kinds"), i);
      const FaultDescriptor* d =
          k.is_string() ? find_fault(k.get_ref<const std::string&>()) : nullptr;
      if (!d) fail(p, "unknown fault kind " + show(k) + " (known: " + join(fault_names()) + ")");
      s.nemesis.kinds.push_back(d->kind);
    }
    if (const json* x = o.find("mean_interval"))
      s.nemesis.mean_interval = read_duration(*x, o.at("mean_interval"), Sign::Positive);
    if (const json* x = o.find("quiet_after"))
      s.nemesis.quiet_after = read_duration(*x, o.at("quiet_after"), Sign::NonNegative);
    // About window / mean_interval faults are drawn, each scheduled up front.
    const Duration window = std::min(s.nemesis.quiet_after, s.duration);
    if (window / s.nemesis.mean_interval > static_cast<int64_t>(kMaxNemesisFaults / 2))
      fail(o.at("mean_interval"),
           format_duration(s.nemesis.mean_interval) + " would draw about " +
               std::to_string(window / s.nemesis.mean_interval) + " faults before " +
               format_duration(window) + " (the limit is " + std::to_string(kMaxNemesisFaults / 2) +
               ": make it at least " +
               format_duration(window / static_cast<int64_t>(kMaxNemesisFaults / 2)) + ")");
  }
  if (const json* v = top.find("faults")) {
    if (!v->is_array()) fail("faults", "must be an array, got " + show(*v));
    // store_crash names a store: check it against the stores the algorithm will open,
    // when that number is known here (its "stores" option may override the default).
    // INT_MAX: unknown here (malformed options are refused when the scenario runs).
    int stores = INT_MAX;
    try {
      stores = info->store_count(info->validate(s.options));
    } catch (const OptionError&) {
    }
    for (size_t i = 0; i < v->size(); ++i)
      s.faults.push_back(read_fault((*v)[i], item("faults", i),
                                    FaultLimits{.clients = s.clients, .stores = stores}));
  }
  return s;
}

Options parse_options(const std::string& json_text) {
  json doc = parse_json(json_text);
  return read_options(Obj(doc, "options"), nullptr);
}

Scenario load_scenario(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) fail(path, "cannot read: is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, std::string("cannot read: ") + std::strerror(errno));
  // Read no more than the limit (and one byte to know it was passed): /dev/zero or a
  // runaway generator's output must end in an error, not in all of memory.
  std::string text;
  char buf[64 * 1024];
  while (in && text.size() <= kMaxScenarioFileBytes) {
    in.read(buf, sizeof buf);
    text.append(buf, static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) fail(path, std::string("cannot read: ") + std::strerror(errno));
  if (text.size() > kMaxScenarioFileBytes)
    fail(path, "larger than " + std::to_string(kMaxScenarioFileBytes >> 20) +
                   " MiB, the limit for a scenario file");
  return parse_scenario(text);
}

std::string scenario_to_json(const Scenario& s) {
  // Every key is written, defaults included, so the file means the same thing even if a
  // later version changes a default.
  ordered_json j;
  j["algorithm"] = s.algorithm;
  ordered_json options = ordered_json::object();
  for (const auto& [k, v] : s.options.all()) options[k] = option_value(v);
  j["options"] = options;
  j["seed"] = s.seed;
  j["clients"] = s.clients;
  j["session_timeout"] = format_duration(s.session_timeout);
  j["lock_path"] = s.lock_path;
  j["workload"] = {{"cycles", s.workload.cycles},
                   {"hold", format_duration(s.workload.hold)},
                   {"think", format_duration(s.workload.think)},
                   {"acquire_timeout", format_duration(s.workload.acquire_timeout)}};
  // Written only when it differs from the default, so older files round-trip unchanged.
  if (!s.workload.heed_lost) j["workload"]["heed_lost"] = false;
  j["network"] = {{"latency",
                   {{"min", format_duration(s.network.latency.min)},
                    {"max", format_duration(s.network.latency.max)}}}};
  j["server"] = {{"tick_time", format_duration(s.server.tick_time)},
                 {"ttl_check_interval", format_duration(s.server.ttl_check_interval)}};
  if (s.resource.enabled)
    j["resource"] = {{"fenced", s.resource.fenced},
                     {"store", s.resource.separate_store ? "separate" : "same"}};
  if (!s.fencing.empty()) j["fencing"] = s.fencing;
  j["duration"] = format_duration(s.duration);
  if (s.nemesis.enabled) {
    ordered_json kinds = ordered_json::array();
    for (FaultKind k : s.nemesis.kinds) kinds.push_back(fault_name(k));
    j["nemesis"] = {{"kinds", kinds},
                    {"mean_interval", format_duration(s.nemesis.mean_interval)},
                    {"quiet_after", format_duration(s.nemesis.quiet_after)}};
  }
  ordered_json faults = ordered_json::array();
  for (const Fault& f : s.faults) faults.push_back(fault_json(f));
  j["faults"] = faults;
  return j.dump(2, ' ', false, ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace lockstep::sim
