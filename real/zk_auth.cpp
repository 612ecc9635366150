#include "real/zk_auth.h"

#include <cstdlib>
#include <stdexcept>

namespace lockstep::real {

std::optional<ZkAuth> parse_zk_auth(const std::string& text, std::string& error) {
  auto colon = text.find(':');
  if (colon == std::string::npos) {
    error = "expected digest:USER:PASSWORD";
    return std::nullopt;
  }
  std::string scheme = text.substr(0, colon);
  if (scheme != "digest") {
    error = "scheme \"" + scheme + "\" is not supported (only digest:USER:PASSWORD)";
    return std::nullopt;
  }
  std::string credentials = text.substr(colon + 1);
  auto split = credentials.find(':');
  if (split == std::string::npos || split == 0) {
    error = "expected digest:USER:PASSWORD (a user, a colon, a password)";
    return std::nullopt;
  }
  if (split + 1 == credentials.size()) {
    error = "the password is empty";
    return std::nullopt;
  }
  for (char ch : credentials)
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) {
      error = "the user or password holds a control character";
      return std::nullopt;
    }
  return ZkAuth{.scheme = std::move(scheme), .credentials = std::move(credentials)};
}

std::string format_zk_auth(const ZkAuth& auth) { return auth.scheme + ":" + auth.credentials; }

std::optional<ZkAuth> zk_auth_from_environment() {
  const char* text = std::getenv(kZkAuthEnvironment);
  if (!text || !*text) return std::nullopt;
  std::string error;
  auto auth = parse_zk_auth(text, error);
  if (!auth) throw std::invalid_argument(std::string(kZkAuthEnvironment) + ": " + error);
  return auth;
}

}  // namespace lockstep::real
