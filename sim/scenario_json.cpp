#include "sim/scenario_json.h"

#include <charconv>
#include <climits>
#include <cstdlib>

#include "core/json.h"

namespace lockstep::sim::scenario_json {

// A key path may hold the document's own keys: control characters in them are escaped,
// so the message stays one line.
[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  throw ScenarioError{one_line(path + ": " + problem)};
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

std::string json_string(const std::string& s) { return show(json(s)); }

std::string child(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string item(const std::string& path, size_t i) { return path + "[" + std::to_string(i) + "]"; }

Obj::Obj(const json& j, std::string path) : j_(j), path_(std::move(path)) {
  if (!j_.is_object()) fail(path_, "must be an object, got " + show(j_));
}

void Obj::only(const std::vector<std::string_view>& known, const std::string& hint) const {
  for (const auto& [k, v] : j_.items()) {
    bool ok = false;
    for (std::string_view n : known) ok = ok || n == k;
    if (!ok) fail(at(k), "unknown key" + hint);
  }
}

const json* Obj::find(std::string_view key) const {
  auto it = j_.find(key);
  return it == j_.end() ? nullptr : &*it;
}

// True for text shaped like a duration (digits, optional fraction, a unit) that
// parse_duration still refused: it can only have been too large.
namespace {
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

std::string too_long(const json& v) {
  return std::string("must be at most ") + kMaxInputDurationText + ", got " + show(v);
}

}  // namespace

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
    if (duration_shaped(t)) fail(path, too_long(v));
    fail(path, show(v) + " is not a duration with a unit " + kUnits);
  }
  if (sign == Sign::Positive && d->count() <= 0) fail(path, "must be positive, got " + show(v));
  if (*d > kMaxInputDuration) fail(path, too_long(v));
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
    if (std::optional<Duration> d = parse_duration(t)) {
      if (*d > kMaxInputDuration) fail(path, too_long(v));
      return negative ? -*d : *d;
    }
    if (duration_shaped(t)) fail(path, too_long(v));
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

std::optional<int> read_ordinal(std::string_view text) {
  bool digits = !text.empty() && text.size() <= 7;
  for (char c : text) digits = digits && c >= '0' && c <= '9';
  if (!digits) return std::nullopt;
  const int n = std::stoi(std::string(text));
  if (n < 1 || n > 1'000'000) return std::nullopt;
  return n;
}

Target read_target(const json& v, const std::string& path, int clients, bool server_ok,
                   int stores) {
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (s == "holder") return Target{Target::Kind::Holder, 0};
    if (s == "waiter") return Target{Target::Kind::Waiter, 0};
    // "holder#N": the client of the run's Nth grant.
    if (s.starts_with("holder#")) {
      const std::optional<int> n = read_ordinal(std::string_view(s).substr(7));
      if (!n)
        fail(path,
             "the grant number after \"holder#\" must be a whole number from 1 to 1000000, got " +
                 show(v));
      return Target{Target::Kind::NthHolder, *n};
    }
    // "holder@K": the client whose lock key is on store K when the fault strikes.
    if (s.starts_with("holder@")) {
      const std::string_view k = std::string_view(s).substr(7);
      bool digits = !k.empty() && k.size() <= 7;
      for (char c : k) digits = digits && c >= '0' && c <= '9';
      if (!digits)
        fail(path, "the store after \"holder@\" must be a store index from 0, got " + show(v));
      const int store = std::stoi(std::string(k));
      if (store >= stores)
        fail(path, "store " + std::to_string(store) +
                       " out of range (stores: " + std::to_string(stores) + ")");
      return Target{Target::Kind::HolderOnStore, store};
    }
    if (s == "server" && server_ok) return Target{Target::Kind::Server, 0};
  } else if (v.is_number_integer()) {
    bool in_range = !(v.is_number_unsigned() && v.get<uint64_t>() >= uint64_t(INT_MAX)) &&
                    v.get<int64_t>() >= 0 && v.get<int64_t>() < clients;
    if (!in_range)
      fail(path, "client " + show(v) + " out of range (clients: " + std::to_string(clients) + ")");
    return Target{Target::Kind::Index, static_cast<int>(v.get<int64_t>())};
  }
  fail(path, std::string("must be a client index, \"holder\", \"holder#N\", \"holder@K\"") +
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
    case Target::Kind::NthHolder:
      return "holder#" + std::to_string(t.index);
    case Target::Kind::HolderOnStore:
      return "holder@" + std::to_string(t.index);
    case Target::Kind::Index:
      break;
  }
  return t.index;
}

}  // namespace lockstep::sim::scenario_json
