#include "core/store.h"

#include <string.h>  // memrchr (GNU)

#include <bit>
#include <cstring>

namespace lockstep {

namespace {

// The eight bytes at p as one word, with the top bit of each byte below '0' set (and no
// other bit): the lowest set bit marks the first such byte. Bytes of 0x80 and above are
// never marked, as the byte-wise check skips them too.
uint64_t bytes_below_0(const char* p) {
  static_assert(std::endian::native == std::endian::little, "the lowest byte comes first");
  uint64_t w;
  std::memcpy(&w, p, sizeof w);
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  return (w - kOnes * '0') & ~w & kHigh;
}

// Whether the eight bytes at p are all ASCII digits.
bool eight_digits(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, sizeof w);
  constexpr uint64_t kHighNibbles = 0xF0F0F0F0F0F0F0F0ULL;
  constexpr uint64_t kThrees = 0x3030303030303030ULL;
  // A digit is 0x30-0x39: its high nibble is 3, and stays 3 when 6 is added.
  return (w & kHighNibbles) == kThrees && ((w + 0x0606060606060606ULL) & kHighNibbles) == kThrees;
}

// The value of eight ASCII digits at p, the first the most significant: pairs, then
// fours, then the eight, each by one multiply.
uint64_t eight_digits_value(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, sizeof w);
  w -= 0x3030303030303030ULL;
  w = (w * 10 + (w >> 8)) & 0x00FF00FF00FF00FFULL;
  w = (w * 100 + (w >> 16)) & 0x0000FFFF0000FFFFULL;
  return (w * 10000 + (w >> 32)) & 0xFFFFFFFFULL;
}

// string_view::rfind goes a byte at a time; a lock's node names are long (a 36-character
// GUID, a sequence number) and every request asks for a parent or a base name.
size_t last_slash(std::string_view path) {
  const void* at = path.empty() ? nullptr : memrchr(path.data(), '/', path.size());
  return at ? static_cast<size_t>(static_cast<const char*>(at) - path.data())
            : std::string_view::npos;
}

}  // namespace

std::string_view error_name(Error e) {
  switch (e) {
    case Error::Ok:
      return "Ok";
    case Error::SystemError:
      return "SystemError";
    case Error::RuntimeInconsistency:
      return "RuntimeInconsistency";
    case Error::DataInconsistency:
      return "DataInconsistency";
    case Error::ConnectionLoss:
      return "ConnectionLoss";
    case Error::MarshallingError:
      return "MarshallingError";
    case Error::Unimplemented:
      return "Unimplemented";
    case Error::OperationTimeout:
      return "OperationTimeout";
    case Error::BadArguments:
      return "BadArguments";
    case Error::InvalidState:
      return "InvalidState";
    case Error::ApiError:
      return "ApiError";
    case Error::NoNode:
      return "NoNode";
    case Error::NoAuth:
      return "NoAuth";
    case Error::BadVersion:
      return "BadVersion";
    case Error::NoChildrenForEphemerals:
      return "NoChildrenForEphemerals";
    case Error::NodeExists:
      return "NodeExists";
    case Error::NotEmpty:
      return "NotEmpty";
    case Error::SessionExpired:
      return "SessionExpired";
    case Error::InvalidCallback:
      return "InvalidCallback";
    case Error::InvalidAcl:
      return "InvalidAcl";
    case Error::AuthFailed:
      return "AuthFailed";
    case Error::Closing:
      return "Closing";
    case Error::Nothing:
      return "Nothing";
    case Error::SessionMoved:
      return "SessionMoved";
    case Error::NotReadOnly:
      return "NotReadOnly";
    case Error::EphemeralOnLocalSession:
      return "EphemeralOnLocalSession";
    case Error::NoWatcher:
      return "NoWatcher";
    case Error::QuotaExceeded:
      return "QuotaExceeded";
    case Error::Throttled:
      return "Throttled";
  }
  return "UnknownError";
}

std::string_view create_mode_name(CreateMode m) {
  switch (m) {
    case CreateMode::Persistent:
      return "persistent";
    case CreateMode::Ephemeral:
      return "ephemeral";
    case CreateMode::PersistentSequential:
      return "persistent_sequential";
    case CreateMode::EphemeralSequential:
      return "ephemeral_sequential";
    case CreateMode::Container:
      return "container";
    case CreateMode::PersistentWithTtl:
      return "persistent_ttl";
    case CreateMode::PersistentSequentialWithTtl:
      return "persistent_sequential_ttl";
  }
  return "unknown";
}

bool is_sequential(CreateMode m) {
  return m == CreateMode::PersistentSequential || m == CreateMode::EphemeralSequential ||
         m == CreateMode::PersistentSequentialWithTtl;
}
bool is_ephemeral(CreateMode m) {
  return m == CreateMode::Ephemeral || m == CreateMode::EphemeralSequential;
}
bool is_ttl(CreateMode m) {
  return m == CreateMode::PersistentWithTtl || m == CreateMode::PersistentSequentialWithTtl;
}

std::string_view session_state_name(SessionState s) {
  switch (s) {
    case SessionState::Connecting:
      return "connecting";
    case SessionState::Connected:
      return "connected";
    case SessionState::Suspended:
      return "suspended";
    case SessionState::Expired:
      return "expired";
    case SessionState::Closed:
      return "closed";
  }
  return "unknown";
}

std::string_view session_event_name(SessionEvent e) {
  switch (e) {
    case SessionEvent::Connected:
      return "connected";
    case SessionEvent::Suspended:
      return "suspended";
    case SessionEvent::Reconnected:
      return "reconnected";
    case SessionEvent::Expired:
      return "expired";
    case SessionEvent::Closed:
      return "closed";
  }
  return "unknown";
}

std::string_view watch_event_name(WatchEventType t) {
  switch (t) {
    case WatchEventType::Created:
      return "created";
    case WatchEventType::Deleted:
      return "deleted";
    case WatchEventType::DataChanged:
      return "data_changed";
    case WatchEventType::ChildrenChanged:
      return "children_changed";
    case WatchEventType::SessionEnded:
      return "session_ended";
  }
  return "unknown";
}

std::string parent_path(std::string_view path) { return std::string(parent_view(path)); }

std::string_view parent_view(std::string_view path) {
  const size_t slash = last_slash(path);
  if (slash == std::string_view::npos || slash == 0) return "/";
  return path.substr(0, slash);
}

std::string_view base_name(std::string_view path) {
  const size_t slash = last_slash(path);
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string join_path(std::string_view dir, std::string_view name) {
  std::string out(dir);
  if (out.empty() || out.back() != '/') out.push_back('/');
  out.append(name);
  return out;
}

std::optional<int64_t> sequence_number(std::string_view name) {
  // One pass back over the trailing digits: they are the number when a '-' or the start
  // of the name comes before them; any other character there means the part after the
  // last '-' is not all digits. A recipe reads every name of every listing, and the names
  // end in ten digits, so both passes go eight bytes at a time where they can.
  size_t start = name.size();
  while (start >= 8 && eight_digits(name.data() + start - 8)) start -= 8;
  while (start > 0 && name[start - 1] >= '0' && name[start - 1] <= '9') --start;
  if (start > 0 && name[start - 1] != '-') return std::nullopt;
  const std::string_view digits = name.substr(start);
  if (digits.empty() || digits.size() > 18) return std::nullopt;
  int64_t n = 0;
  size_t i = 0;
  for (; i < digits.size() % 8; ++i) n = n * 10 + (digits[i] - '0');
  for (; i < digits.size(); i += 8)
    n = n * 100000000 + static_cast<int64_t>(eight_digits_value(digits.data() + i));
  return n;
}

bool valid_path(std::string_view path) {
  if (path.empty() || path[0] != '/') return false;
  if (path.size() == 1) return true;
  if (path.back() == '/') return false;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view seg = path.substr(start, end - start);
    if (seg.empty() || seg == "." || seg == "..") return false;
    for (char c : seg)
      if (c == '\0') return false;
    start = end + 1;
  }
  return true;
}

bool c_client_path_valid(std::string_view path, bool sequential) {
  const size_t len = path.size();
  if (len == 0 || path[0] != '/') return false;
  if (len == 1) return true;
  if (path[len - 1] == '/' && !sequential) return false;
  for (size_t i = 1; i < len; i++) {
    // Every rule is about NUL, control characters, '.' or '/', all below '0'; the
    // simulator checks each request's path twice, so eight bytes at a time skip to the
    // next such character.
    if (i + 8 <= len) {
      const uint64_t low = bytes_below_0(path.data() + i);
      if (low == 0) {
        i += 7;
        continue;
      }
      i += static_cast<size_t>(std::countr_zero(low)) / 8;
    }
    const char c = path[i];
    if (static_cast<unsigned char>(c) > '/') continue;
    const char lastc = path[i - 1];
    const bool at_end = i + 1 == len;
    if (c == 0) return false;
    if (c == '/' && lastc == '/') return false;
    if (c == '.' && lastc == '.') {
      if (path[i - 2] == '/' && ((at_end && !sequential) || (!at_end && path[i + 1] == '/')))
        return false;
    } else if (c == '.') {
      if (lastc == '/' && ((at_end && !sequential) || (!at_end && path[i + 1] == '/')))
        return false;
    } else if (c > 0x00 && c < 0x1f) {
      return false;
    }
  }
  return true;
}

bool multi_create_unsupported(const Op& op) {
  return op.type == OpType::Create && (is_ttl(op.mode) || op.mode == CreateMode::Container);
}

}  // namespace lockstep
