// Reading and writing the pieces of a scenario file: each reader names the key path of
// the value it refuses in one line (ScenarioError), and each writer writes what its
// reader reads back to the same value. Shared by the scenario parser (sim/scenario.cpp)
// and the fault kinds (sim/faults/), each of which reads and writes its own keys.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.h"
#include "sim/scenario.h"

namespace lockstep::sim::scenario_json {

using nlohmann::json;
using nlohmann::ordered_json;

inline constexpr const char* kUnits = "(ns, us, ms, s, m)";

[[noreturn]] void fail(const std::string& path, const std::string& problem);

// "a, b, c".
template <typename Range>
std::string join(const Range& names) {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out;
}
bool contains(const std::vector<std::string>& names, const std::string& name);

// A value as the document spells it, short enough to keep a message on one line.
std::string show(const json& v);
std::string json_string(const std::string& s);
// "a.b" and "a[3]": key paths as messages name them.
std::string child(const std::string& path, std::string_view key);
std::string item(const std::string& path, size_t i);

// An object of the document together with the key path that names it in messages.
class Obj {
 public:
  Obj(const json& j, std::string path);

  // Every key must be one of `known`; `hint` follows "unknown key" in the message.
  void only(const std::vector<std::string_view>& known, const std::string& hint = "") const;
  const json* find(std::string_view key) const;
  std::string at(std::string_view key) const { return child(path_, key); }
  const std::string& path() const { return path_; }
  const json& self() const { return j_; }

 private:
  const json& j_;
  std::string path_;
};

enum class Sign { NonNegative, Positive };

Duration read_duration(const json& v, const std::string& path, Sign sign);
// "2" in "acquired#2" and "holder#2": a count from 1 to 1,000,000 in plain digits.
std::optional<int> read_ordinal(std::string_view text);
// A duration in whole milliseconds (ZooKeeper counts session timeouts and ticks in ms).
Duration read_millis(const json& v, const std::string& path);
// "+30s", "-5s" or "30s": a clock step either way.
Duration read_signed_duration(const json& v, const std::string& path);
// "2%", "+1.5%", "-500ppm", in ppm.
double read_drift(const json& v, const std::string& path);
int64_t read_integer(const json& v, const std::string& path, int64_t lo, int64_t hi);
bool read_bool(const json& v, const std::string& path);
std::string read_string(const json& v, const std::string& path);
std::string read_choice(const json& v, const std::string& path,
                        const std::vector<std::string>& choices);
// A client index below `clients`, "holder", "waiter", or (if server_ok) "server".
Target read_target(const json& v, const std::string& path, int clients, bool server_ok,
                   int stores = 1);
// "min" and "max" of `o` over `r`, min <= max.
LatencyRange read_range(const Obj& o, LatencyRange r);

std::string format_drift(double ppm);
std::string format_jump(Duration d);
ordered_json target_json(const Target& t);

}  // namespace lockstep::sim::scenario_json
