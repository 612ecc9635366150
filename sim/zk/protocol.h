// The messages between the simulated ZooKeeper client library and server: the jute
// records of the real wire protocol, kept as structs (nothing is serialized).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/store.h"
#include "core/zk/listing_order.h"

namespace lockstep::sim {

enum class RequestKind {
  Connect,
  Ping,
  Create,
  Remove,
  Get,
  Exists,
  Children,
  Set,
  Multi,
  CloseSession,
  SetWatches,
};
const char* request_kind_name(RequestKind k);

struct Request {
  RequestKind kind = RequestKind::Ping;
  int64_t xid = 0;
  std::string path;
  std::string data;
  CreateMode mode = CreateMode::Persistent;
  int64_t ttl_ms = 0;
  int32_t version = -1;
  bool watch = false;
  std::vector<Op> ops;
  // Connect: the session to resume (0 for a new one), the requested timeout, and the
  // last zxid the client has seen. SetWatches: last_zxid is the relative zxid.
  int64_t session_id = 0;
  int64_t timeout_ms = 0;
  int64_t last_zxid = 0;
  std::vector<std::string> data_watches, exist_watches, child_watches;
};

enum class ReplyKind { Connected, Response, Notification, Pong };

struct Reply {
  ReplyKind kind = ReplyKind::Response;
  int64_t xid = 0;
  int64_t zxid = 0;  // the server's last zxid when it replied
  Error err = Error::Ok;
  std::string path;
  std::string data;
  Stat stat;
  DeferredListing children;  // made by the reader (core/zk/listing_order.h)
  MultiReply multi;
  bool watch_set = false;
  // Connected: the session and its negotiated timeout (0: the session has expired).
  int64_t session_id = 0;
  int64_t timeout_ms = 0;
  // Notification
  WatchEventType event = WatchEventType::Created;
};

using RequestPtr = std::shared_ptr<const Request>;
using ReplyPtr = std::shared_ptr<const Reply>;

}  // namespace lockstep::sim
