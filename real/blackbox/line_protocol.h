// The line protocol between `lockstep live --client-cmd` and a lock client of any
// language (docs/live.md): one JSON object per line, ops on the client's stdin, events on
// its stdout. This file knows the words; client_backend.h drives the conversation.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "core/time.h"

namespace lockstep::real::blackbox {

// lockstep -> client.
std::string acquire_op(Duration timeout);  // {"op":"acquire","timeout_ms":T}
std::string release_op();                  // {"op":"release"}
std::string increment_op();                // {"op":"increment"}
std::string quit_op();                     // {"op":"quit"}

// client -> lockstep: one line read.
struct ClientLine {
  enum class Kind {
    Ready,          // the client is connected: its session (id, password) if it gave them
    Session,        // its session changed (a new one after an expiry): the same fields
    Acquired,       // token if given
    AcquireFailed,  // error
    Released,
    Lost,         // unprompted: the client's library says the lock is gone
    Incremented,  // read, wrote, accepted, zxid if given
    Error,        // error
  };
  Kind kind = Kind::Error;
  std::optional<int64_t> session;
  std::string passwd;  // the session's password, raw bytes ("" if not given)
  std::optional<uint64_t> token;
  std::string error;
  int64_t read = 0, wrote = 0;
  bool accepted = false;
  std::optional<int64_t> zxid;
};

// The line parsed, or why it is not a line of the protocol (one phrase).
std::variant<ClientLine, std::string> parse_client_line(std::string_view line);

std::string_view line_kind_name(ClientLine::Kind k);

}  // namespace lockstep::real::blackbox
