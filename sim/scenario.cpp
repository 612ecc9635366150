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

#include "core/lock.h"

namespace lockstep::sim {

bool Scenario::operator==(const Scenario& o) const {
  return algorithm == o.algorithm && options.all() == o.options.all() && seed == o.seed &&
         clients == o.clients && session_timeout == o.session_timeout && lock_path == o.lock_path &&
         workload == o.workload && network == o.network && server == o.server &&
         faults == o.faults && nemesis == o.nemesis && resource == o.resource &&
         fencing == o.fencing && duration == o.duration;
}

namespace {

using nlohmann::json;
using nlohmann::ordered_json;

constexpr int kMaxClients = 1000;
constexpr const char* kUnits = "(ns, us, ms, s, m)";

// The keys each fault kind takes ("kind" included), and which of them must be present.
// One table drives validation, error hints and scenario_to_json, so they cannot disagree.
struct FaultKindSpec {
  std::string_view name;
  std::vector<std::string_view> keys;
  std::vector<std::string_view> required;
};

const std::vector<FaultKindSpec>& fault_table() {
  static const std::vector<FaultKindSpec> table = {
      {"pause", {"kind", "client", "at", "for"}, {"client", "at", "for"}},
      {"crash", {"kind", "client", "at", "restart_after"}, {"client", "at"}},
      {"clock", {"kind", "client", "at", "drift", "jump", "strobe", "store"}, {"client", "at"}},
      {"partition", {"kind", "client", "at", "for", "direction"}, {"client", "at", "for"}},
      {"drop_reply", {"kind", "client", "at", "op"}, {"client", "at"}},
      {"latency", {"kind", "at", "for", "min", "max", "client"}, {"at", "for", "min", "max"}},
      {"loss", {"kind", "at", "for", "probability", "client"}, {"at", "for", "probability"}},
      {"duplicate", {"kind", "at", "for", "probability", "client"}, {"at", "for", "probability"}},
      {"server_stall", {"kind", "at", "for", "store"}, {"at", "for"}},
      {"expire_session", {"kind", "client", "at"}, {"client", "at"}},
      {"store_crash",
       {"kind", "store", "at", "restart_after", "persist"},
       {"store", "at", "restart_after"}},
  };
  return table;
}

const FaultKindSpec* find_fault_kind(std::string_view name) {
  for (const FaultKindSpec& k : fault_table())
    if (k.name == name) return &k;
  return nullptr;
}

const std::vector<std::string> kDirections = {"both", "to_server", "from_server"};
const std::vector<std::string> kOps = {"create", "delete",   "set",  "get",
                                       "exists", "children", "multi"};
const std::vector<std::string> kFencing = {"czxid", "sequence", "none"};

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  throw ScenarioError{path + ": " + problem};
}

template <typename Range>
std::string join(const Range& names) {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
  for (const std::string& n : names)
    if (n == name) return true;
  return false;
}

// A value as the document spells it, short enough to keep a message on one line (dump
// escapes control characters, so a string with a newline stays on one line too).
std::string show(const json& v) {
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > 60) {
    size_t n = 57;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    s = s.substr(0, n) + "...";
  }
  return s;
}

std::string child(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string item(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }

// An object of the document together with the key path that names it in messages.
class Obj {
 public:
  Obj(const json& j, std::string path) : j_(j), path_(std::move(path)) {
    if (!j_.is_object()) fail(path_, "must be an object, got " + show(j_));
  }

  // Every key must be one of `known`; `hint` follows "unknown key" in the message.
  void only(const std::vector<std::string_view>& known, const std::string& hint = "") const {
    for (const auto& [k, v] : j_.items()) {
      bool ok = false;
      for (std::string_view n : known) ok = ok || n == k;
      if (!ok) fail(at(k), "unknown key" + hint);
    }
  }

  const json* find(std::string_view key) const {
    auto it = j_.find(key);
    return it == j_.end() ? nullptr : &*it;
  }

  std::string at(std::string_view key) const { return child(path_, key); }
  const std::string& path() const { return path_; }
  const json& self() const { return j_; }

 private:
  const json& j_;
  std::string path_;
};

enum class Sign { NonNegative, Positive };

// True for text shaped like a duration (digits, optional fraction, a unit) that
// parse_duration still refused: it can only have been too large.
bool duration_shaped(std::string_view t) {
  size_t i = 0, digits = 0;
  while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i, ++digits;
  if (i < t.size() && t[i] == '.') {
    ++i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i, ++digits;
  }
  std::string_view unit = t.substr(i);
  return digits > 0 && (unit == "ns" || unit == "us" || unit == "ms" || unit == "s" ||
                        unit == "m" || unit == "h");
}

Duration read_duration(const json& v, const std::string& path, Sign sign) {
  if (!v.is_string()) {
    std::string msg = show(v) + " is not a duration with a unit " + kUnits;
    if (v.is_number()) msg += "; write it as a string, e.g. \"500ms\"";
    fail(path, msg);
  }
  const std::string& t = v.get_ref<const std::string&>();
  std::optional<Duration> d = parse_duration(t);
  if (!d) {
    if (!t.empty() && t[0] == '-' && parse_duration(std::string_view(t).substr(1)))
      fail(path, "must not be negative, got " + show(v));
    if (duration_shaped(t)) fail(path, show(v) + " is too large");
    fail(path, show(v) + " is not a duration with a unit " + kUnits);
  }
  if (sign == Sign::Positive && d->count() <= 0) fail(path, "must be positive, got " + show(v));
  return *d;
}

// ZooKeeper counts session timeouts and ticks in whole milliseconds (so does the
// simulated server, which divides by the tick): a finer value would be silently cut.
Duration read_millis(const json& v, const std::string& path) {
  Duration d = read_duration(v, path, Sign::Positive);
  if (d.count() % 1'000'000 != 0)
    fail(path,
         "must be a whole number of milliseconds (ZooKeeper counts it in ms), got " + show(v));
  return d;
}

// "+30s", "-5s" or "30s": a clock step either way.
Duration read_signed_duration(const json& v, const std::string& path) {
  if (v.is_string()) {
    std::string_view t = v.get_ref<const std::string&>();
    bool negative = !t.empty() && t[0] == '-';
    if (!t.empty() && (t[0] == '-' || t[0] == '+')) t.remove_prefix(1);
    if (std::optional<Duration> d = parse_duration(t)) return negative ? -*d : *d;
  }
  fail(path, show(v) + " is not a signed duration (e.g. \"+30s\", \"-5s\")");
}

// "2%", "+1.5%", "-500ppm": read as exact decimals, so "0.1%" is exactly 1000 ppm.
double read_drift(const json& v, const std::string& path) {
  auto bad = [&]() -> double {
    fail(path, show(v) + " is not a clock drift (e.g. \"2%\", \"-500ppm\")");
  };
  if (!v.is_string()) return bad();
  std::string_view t = v.get_ref<const std::string&>();
  std::string sign;
  if (!t.empty() && (t[0] == '-' || t[0] == '+')) {
    if (t[0] == '-') sign = "-";
    t.remove_prefix(1);
  }
  int shift = 0;  // decimal places the point moves right to reach ppm
  if (t.ends_with("ppm")) {
    t.remove_suffix(3);
  } else if (t.ends_with("%")) {
    t.remove_suffix(1);
    shift = 4;
  } else {
    return bad();
  }
  size_t dot = t.find('.');
  std::string whole(t.substr(0, dot));
  std::string frac(dot == std::string_view::npos ? "" : t.substr(dot + 1));
  auto all_digits = [](const std::string& s) {
    return s.find_first_not_of("0123456789") == std::string::npos;
  };
  if ((whole.empty() && frac.empty()) || !all_digits(whole) || !all_digits(frac) ||
      (dot != std::string_view::npos && frac.empty()))
    return bad();
  while (static_cast<int>(frac.size()) < shift) frac += '0';
  whole += frac.substr(0, shift);
  frac = frac.substr(shift);
  std::string text = sign + (whole.empty() ? "0" : whole) + (frac.empty() ? "" : "." + frac);
  double ppm = std::strtod(text.c_str(), nullptr);
  // The rate is 1 + ppm/1e6: at -100% the clock would stop, below it run backwards.
  if (ppm <= -1e6) fail(path, "must be above -100% (a clock cannot stop), got " + show(v));
  if (ppm > 1e9) fail(path, "must be at most +100000%, got " + show(v));
  return ppm;
}

int64_t read_integer(const json& v, const std::string& path, int64_t lo, int64_t hi) {
  if (!v.is_number_integer()) fail(path, "must be an integer, got " + show(v));
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(hi))
    fail(path, "must be at most " + std::to_string(hi) + ", got " + show(v));
  int64_t i = v.get<int64_t>();
  if (i < lo) fail(path, "must be at least " + std::to_string(lo) + ", got " + show(v));
  if (i > hi) fail(path, "must be at most " + std::to_string(hi) + ", got " + show(v));
  return i;
}

bool read_bool(const json& v, const std::string& path) {
  if (!v.is_boolean()) fail(path, "must be true or false, got " + show(v));
  return v.get<bool>();
}

std::string read_string(const json& v, const std::string& path) {
  if (!v.is_string()) fail(path, "must be a string, got " + show(v));
  return v.get<std::string>();
}

std::string read_choice(const json& v, const std::string& path,
                        const std::vector<std::string>& choices) {
  std::string s = read_string(v, path);
  if (!contains(choices, s)) fail(path, "must be one of " + join(choices) + ", got " + show(v));
  return s;
}

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

Target read_target(const json& v, const std::string& path, int clients, bool server_ok) {
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (s == "holder") return Target{Target::Kind::Holder, 0};
    if (s == "waiter") return Target{Target::Kind::Waiter, 0};
    if (s == "server" && server_ok) return Target{Target::Kind::Server, 0};
  } else if (v.is_number_integer()) {
    bool in_range = !(v.is_number_unsigned() && v.get<uint64_t>() >= uint64_t(INT_MAX)) &&
                    v.get<int64_t>() >= 0 && v.get<int64_t>() < clients;
    if (!in_range)
      fail(path, "client " + show(v) + " out of range (clients: " + std::to_string(clients) + ")");
    return Target{Target::Kind::Index, static_cast<int>(v.get<int64_t>())};
  }
  fail(path, std::string("must be a client index, \"holder\"") +
                 (server_ok ? ", \"waiter\" or \"server\"" : " or \"waiter\"") + ", got " +
                 show(v));
}

LatencyRange read_range(const Obj& o, LatencyRange r) {
  if (const json* v = o.find("min")) r.min = read_duration(*v, o.at("min"), Sign::NonNegative);
  if (const json* v = o.find("max")) r.max = read_duration(*v, o.at("max"), Sign::NonNegative);
  if (r.min > r.max)
    fail(o.at("min"), format_duration(r.min) + " is above max " + format_duration(r.max));
  return r;
}

Fault read_fault(const json& entry, const std::string& path, int clients, int store_limit) {
  Obj o(entry, path);
  const json* kind = o.find("kind");
  if (!kind) fail(path, "\"kind\" is required (one of " + join(fault_kinds()) + ")");
  if (!kind->is_string()) fail(o.at("kind"), "must be a string, got " + show(*kind));
  const FaultKindSpec* spec = find_fault_kind(kind->get_ref<const std::string&>());
  if (!spec)
    fail(path, "unknown fault kind " + show(*kind) + " (known: " + join(fault_kinds()) + ")");
  o.only(spec->keys, " (" + std::string(spec->name) + " takes " + join(spec->keys) + ")");
  for (std::string_view key : spec->required)
    if (!o.find(key))
      fail(path, "\"" + std::string(key) + "\" is required for " + std::string(spec->name));

  Fault f;
  f.kind = spec->name;
  f.at = read_duration(*o.find("at"), o.at("at"), Sign::NonNegative);
  if (const json* v = o.find("client"))
    f.target = read_target(*v, o.at("client"), clients, spec->name == "clock");
  if (const json* v = o.find("for")) f.length = read_duration(*v, o.at("for"), Sign::NonNegative);
  if (const json* v = o.find("restart_after"))
    f.restart_after = read_duration(*v, o.at("restart_after"), Sign::NonNegative);
  if (const json* v = o.find("direction"))
    f.direction = read_choice(*v, o.at("direction"), kDirections);
  if (const json* v = o.find("op")) f.op = read_choice(*v, o.at("op"), kOps);
  if (spec->name == "latency") f.latency = read_range(o, f.latency);
  if (const json* v = o.find("probability")) {
    if (!v->is_number()) fail(o.at("probability"), "must be a number, got " + show(*v));
    f.probability = v->get<double>();
    if (!(f.probability >= 0 && f.probability <= 1))
      fail(o.at("probability"), "must be between 0 and 1, got " + show(*v));
  }
  if (spec->name == "clock") {
    int given = !!o.find("drift") + !!o.find("jump") + !!o.find("strobe");
    if (given != 1) fail(path, "clock takes exactly one of \"drift\", \"jump\", \"strobe\"");
    if (const json* v = o.find("drift")) f.clock.drift_ppm = read_drift(*v, o.at("drift"));
    if (const json* v = o.find("jump")) f.clock.jump = read_signed_duration(*v, o.at("jump"));
    if (const json* v = o.find("strobe")) {
      Obj s(*v, o.at("strobe"));
      s.only({"swing", "period", "for"});
      for (std::string_view key : {"swing", "period", "for"})
        if (!s.find(key)) fail(s.path(), "\"" + std::string(key) + "\" is required");
      f.clock.strobe =
          ClockChange::Strobe{read_duration(*s.find("swing"), s.at("swing"), Sign::NonNegative),
                              read_duration(*s.find("period"), s.at("period"), Sign::Positive),
                              read_duration(*s.find("for"), s.at("for"), Sign::NonNegative)};
    }
  }
  if (const json* v = o.find("store")) {
    f.store = static_cast<int>(read_integer(*v, o.at("store"), 0, INT_MAX));
    if (f.store >= store_limit)
      fail(o.at("store"), "store " + std::to_string(f.store) +
                              " out of range (stores: " + std::to_string(store_limit) + ")");
  }
  if (const json* v = o.find("persist")) f.persist = read_bool(*v, o.at("persist"));
  // With several stores, a server clock names its store; a client's clock has none.
  if (spec->name == "clock" && o.find("store") &&
      !(f.target && f.target->kind == Target::Kind::Server))
    fail(o.at("store"), "only a \"server\" clock names a store");
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
  ordered_json v = ordered_json::parse(text, nullptr, /*allow_exceptions=*/false);
  bool structural = v.is_number() || v.is_boolean() || v.is_array() || v.is_object();
  if (structural && v.dump() == text) return v;
  return text;
}

std::string format_drift(double ppm) {
  char buf[512];
  auto r = std::to_chars(buf, buf + sizeof buf, ppm, std::chars_format::fixed);
  return std::string(buf, r.ptr) + "ppm";
}

std::string format_jump(Duration d) {
  return d.count() < 0 ? "-" + format_duration(-d) : "+" + format_duration(d);
}

ordered_json target_json(const Target& t) {
  switch (t.kind) {
    case Target::Kind::Holder:
      return "holder";
    case Target::Kind::Waiter:
      return "waiter";
    case Target::Kind::Server:
      return "server";
    case Target::Kind::Index:
      break;
  }
  return t.index;
}

ordered_json fault_json(const Fault& f) {
  ordered_json j;
  j["kind"] = f.kind;
  const FaultKindSpec* spec = find_fault_kind(f.kind);
  if (!spec) {
    j["at"] = format_duration(f.at);
    return j;
  }
  // Keys in the table's order, so the output reads like the documentation.
  for (std::string_view key : spec->keys) {
    std::string k(key);
    if (key == "at")
      j[k] = format_duration(f.at);
    else if (key == "client" && f.target)
      j[k] = target_json(*f.target);
    else if (key == "for" && f.length)
      j[k] = format_duration(*f.length);
    else if (key == "restart_after" && f.restart_after)
      j[k] = format_duration(*f.restart_after);
    else if (key == "direction")
      j[k] = f.direction;
    else if (key == "op" && !f.op.empty())
      j[k] = f.op;
    else if (key == "min")
      j[k] = format_duration(f.latency.min);
    else if (key == "max")
      j[k] = format_duration(f.latency.max);
    else if (key == "probability")
      j[k] = f.probability;
    else if (key == "drift" && f.clock.drift_ppm)
      j[k] = format_drift(*f.clock.drift_ppm);
    else if (key == "jump" && f.clock.jump)
      j[k] = format_jump(*f.clock.jump);
    else if (key == "strobe" && f.clock.strobe)
      j[k] = ordered_json{{"swing", format_duration(f.clock.strobe->swing)},
                          {"period", format_duration(f.clock.strobe->period)},
                          {"for", format_duration(f.clock.strobe->length)}};
    else if (key == "store" &&
             (f.kind != "clock" || (f.target && f.target->kind == Target::Kind::Server)))
      j[k] = f.store;
    else if (key == "persist")
      j[k] = f.persist;
  }
  return j;
}

}  // namespace

const std::vector<std::string>& fault_kinds() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const FaultKindSpec& k : fault_table()) v.emplace_back(k.name);
    return v;
  }();
  return names;
}

Scenario parse_scenario(const std::string& json_text) {
  json doc = parse_json(json_text);
  if (!doc.is_object()) fail("scenario", "the document must be a JSON object, got " + show(doc));
  Obj top(doc, "");
  top.only({"algorithm", "options", "seed", "clients", "session_timeout", "lock_path", "workload",
            "network", "server", "faults", "nemesis", "resource", "fencing", "duration"});
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
    o.only({"cycles", "hold", "think", "acquire_timeout"});
    WorkloadSpec& w = s.workload;
    if (const json* x = o.find("cycles"))
      w.cycles = static_cast<int>(read_integer(*x, o.at("cycles"), 0, INT_MAX));
    if (const json* x = o.find("hold")) w.hold = read_duration(*x, o.at("hold"), Sign::NonNegative);
    if (const json* x = o.find("think"))
      w.think = read_duration(*x, o.at("think"), Sign::NonNegative);
    if (const json* x = o.find("acquire_timeout"))
      w.acquire_timeout = read_duration(*x, o.at("acquire_timeout"), Sign::NonNegative);
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
    if (!kinds) fail("nemesis", "\"kinds\" is required (any of " + join(fault_kinds()) + ")");
    if (!kinds->is_array() || kinds->empty())
      fail(o.at("kinds"), "must be a non-empty array of fault kinds, got " + show(*kinds));
    for (size_t i = 0; i < kinds->size(); ++i) {
      const json& k = (*kinds)[i];
      std::string p = item(o.at("kinds"), i);
      if (!k.is_string() || !find_fault_kind(k.get_ref<const std::string&>()))
        fail(p, "unknown fault kind " + show(k) + " (known: " + join(fault_kinds()) + ")");
      s.nemesis.kinds.push_back(k.get<std::string>());
    }
    if (const json* x = o.find("mean_interval"))
      s.nemesis.mean_interval = read_duration(*x, o.at("mean_interval"), Sign::Positive);
    if (const json* x = o.find("quiet_after"))
      s.nemesis.quiet_after = read_duration(*x, o.at("quiet_after"), Sign::NonNegative);
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
      s.faults.push_back(read_fault((*v)[i], item("faults", i), s.clients, stores));
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
  if (s.nemesis.enabled)
    j["nemesis"] = {{"kinds", s.nemesis.kinds},
                    {"mean_interval", format_duration(s.nemesis.mean_interval)},
                    {"quiet_after", format_duration(s.nemesis.quiet_after)}};
  ordered_json faults = ordered_json::array();
  for (const Fault& f : s.faults) faults.push_back(fault_json(f));
  j["faults"] = faults;
  return j.dump(2, ' ', false, ordered_json::error_handler_t::replace) + "\n";
}

}  // namespace lockstep::sim
