#include "real/blackbox/line_protocol.h"

#include <charconv>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/json.h"

namespace lockstep::real::blackbox {

namespace {

using Json = nlohmann::json;

// "0x1a2b" (or plain hex): a ZooKeeper session id as clients print it.
std::optional<int64_t> parse_session_id(std::string_view s) {
  if (s.starts_with("0x") || s.starts_with("0X")) s.remove_prefix(2);
  if (s.empty() || s.size() > 16) return std::nullopt;
  uint64_t v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v, 16);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return static_cast<int64_t>(v);
}

std::optional<std::string> parse_hex_bytes(std::string_view s) {
  if (s.size() % 2 != 0) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < s.size(); i += 2) {
    unsigned v = 0;
    auto r = std::from_chars(s.data() + i, s.data() + i + 2, v, 16);
    if (r.ec != std::errc() || r.ptr != s.data() + i + 2) return std::nullopt;
    out.push_back(static_cast<char>(v));
  }
  return out;
}

// The session fields of ready / session: optional, but well-formed when given.
std::optional<std::string> read_session(const Json& j, ClientLine& out) {
  if (j.contains("session")) {
    if (!j["session"].is_string()) return "\"session\" is not a string";
    auto id = parse_session_id(j["session"].get<std::string>());
    if (!id) return "\"session\" is not a hex session id like \"0x1f2e3d\"";
    out.session = id;
  }
  if (j.contains("passwd")) {
    if (!j["passwd"].is_string()) return "\"passwd\" is not a string";
    auto pw = parse_hex_bytes(j["passwd"].get<std::string>());
    if (!pw) return "\"passwd\" is not hex bytes";
    out.passwd = *pw;
  }
  return std::nullopt;
}

std::optional<std::string> read_integer(const Json& j, const char* field, int64_t& out) {
  if (!j.contains(field)) return std::string("missing \"") + field + "\"";
  if (!j[field].is_number_integer()) return std::string("\"") + field + "\" is not an integer";
  // An unsigned one above int64's range would wrap around to a negative value.
  if (j[field].is_number_unsigned() &&
      j[field].get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    return std::string("\"") + field + "\" is beyond a 64-bit integer";
  out = j[field].get<int64_t>();
  return std::nullopt;
}

}  // namespace

std::string acquire_op(Duration timeout) {
  return "{\"op\":\"acquire\",\"timeout_ms\":" +
         std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count()) +
         "}";
}
std::string release_op() { return "{\"op\":\"release\"}"; }
std::string increment_op() { return "{\"op\":\"increment\"}"; }
std::string quit_op() { return "{\"op\":\"quit\"}"; }

std::string_view line_kind_name(ClientLine::Kind k) {
  switch (k) {
    case ClientLine::Kind::Ready:
      return "ready";
    case ClientLine::Kind::Session:
      return "session";
    case ClientLine::Kind::Acquired:
      return "acquired";
    case ClientLine::Kind::AcquireFailed:
      return "acquire_failed";
    case ClientLine::Kind::Released:
      return "released";
    case ClientLine::Kind::Lost:
      return "lost";
    case ClientLine::Kind::Incremented:
      return "incremented";
    case ClientLine::Kind::Error:
      return "error";
  }
  return "?";
}

std::variant<ClientLine, std::string> parse_client_line(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  // Too deep or a number beyond a double: named with its column, as a scenario's would be.
  if (auto problem = json_limits_problem(line)) return "not JSON lockstep reads: " + *problem;
  Json j = Json::parse(line.begin(), line.end(), nullptr, false);
  if (j.is_discarded()) return std::string("not JSON");
  if (!j.is_object()) return std::string("not a JSON object");
  if (!j.contains("event") || !j["event"].is_string()) return std::string("no \"event\" string");
  const std::string ev = j["event"].get<std::string>();
  ClientLine out;
  std::optional<std::string> bad;
  if (ev == "ready" || ev == "session") {
    out.kind = ev == "ready" ? ClientLine::Kind::Ready : ClientLine::Kind::Session;
    bad = read_session(j, out);
  } else if (ev == "acquired") {
    out.kind = ClientLine::Kind::Acquired;
    if (j.contains("token") && !j["token"].is_null()) {
      if (!j["token"].is_number_unsigned())
        return std::string("\"token\" is not an unsigned integer");
      out.token = j["token"].get<uint64_t>();
    }
  } else if (ev == "acquire_failed" || ev == "error") {
    out.kind = ev == "error" ? ClientLine::Kind::Error : ClientLine::Kind::AcquireFailed;
    if (j.contains("error")) {
      if (!j["error"].is_string()) return std::string("\"error\" is not a string");
      // A message of the client's, echoed in problem lines and reports: kept on one line.
      out.error = one_line(j["error"].get<std::string>());
    }
  } else if (ev == "released") {
    out.kind = ClientLine::Kind::Released;
  } else if (ev == "lost") {
    out.kind = ClientLine::Kind::Lost;
  } else if (ev == "incremented") {
    out.kind = ClientLine::Kind::Incremented;
    if (!bad) bad = read_integer(j, "read", out.read);
    if (!bad) bad = read_integer(j, "wrote", out.wrote);
    if (!bad && (!j.contains("accepted") || !j["accepted"].is_boolean()))
      bad = "\"accepted\" is not true or false";
    if (!bad) out.accepted = j["accepted"].get<bool>();
    if (!bad && j.contains("zxid") && !j["zxid"].is_null()) {
      int64_t z = 0;
      bad = read_integer(j, "zxid", z);
      out.zxid = z;
    }
  } else {
    return "unknown event \"" + one_line(ev) + "\"";
  }
  if (bad) return ev + ": " + *bad;
  return out;
}

}  // namespace lockstep::real::blackbox
