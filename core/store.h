// The coordination store, shaped like ZooKeeper 3.8: sessions, znodes with the create
// modes, Stat fields, error codes and one-shot watches of the real one. The simulator
// implements it (sim/zk), the live runtime implements it on the ZooKeeper C client
// (real/), and every algorithm is written against it alone.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/env.h"
#include "core/future.h"
#include "core/time.h"

namespace lockstep {

// ZooKeeper's own error codes (zookeeper.h), so mapping the live client is the identity.
enum class Error : int {
  Ok = 0,
  SystemError = -1,
  RuntimeInconsistency = -2,  // a multi's ops after the one that failed
  DataInconsistency = -3,
  ConnectionLoss = -4,  // the request may or may not have been applied
  MarshallingError = -5,
  Unimplemented = -6,
  OperationTimeout = -7,
  BadArguments = -8,
  InvalidState = -9,
  ApiError = -100,
  NoNode = -101,
  NoAuth = -102,
  BadVersion = -103,
  NoChildrenForEphemerals = -108,
  NodeExists = -110,
  NotEmpty = -111,
  SessionExpired = -112,
  InvalidCallback = -113,
  InvalidAcl = -114,
  AuthFailed = -115,
  Closing = -116,
  Nothing = -117,
  SessionMoved = -118,
  NotReadOnly = -119,
  EphemeralOnLocalSession = -120,
  NoWatcher = -121,
  QuotaExceeded = -125,
  Throttled = -127,
};
std::string_view error_name(Error e);

// ZooKeeper's create modes with their C-client numbers.
enum class CreateMode : int {
  Persistent = 0,
  Ephemeral = 1,
  PersistentSequential = 2,
  EphemeralSequential = 3,
  Container = 4,
  PersistentWithTtl = 5,
  PersistentSequentialWithTtl = 6,
};
std::string_view create_mode_name(CreateMode m);
bool is_sequential(CreateMode m);
bool is_ephemeral(CreateMode m);
bool is_ttl(CreateMode m);

struct Stat {
  int64_t czxid = 0;
  int64_t mzxid = 0;
  int64_t ctime = 0;  // milliseconds on the server's clock
  int64_t mtime = 0;
  int32_t version = 0;
  int32_t cversion = 0;
  int32_t aversion = 0;
  // Owning session id for ephemerals; ZooKeeper's encodings for TTL and container nodes;
  // 0 otherwise.
  int64_t ephemeral_owner = 0;
  int32_t data_length = 0;
  int32_t num_children = 0;
  int64_t pzxid = 0;
  friend bool operator==(const Stat&, const Stat&) = default;
};

// What a session can go through. Suspended: disconnected, may come back (ZooKeeper's
// CONNECTING after having been connected).
enum class SessionState { Connecting, Connected, Suspended, Expired, Closed };
std::string_view session_state_name(SessionState s);

// Session events as an application sees them: Reconnected is Connected after Suspended.
enum class SessionEvent { Connected, Suspended, Reconnected, Expired, Closed };
std::string_view session_event_name(SessionEvent e);

enum class WatchEventType : int {
  Created = 1,
  Deleted = 2,
  DataChanged = 3,
  ChildrenChanged = 4,
  // The session ended (Expired or Closed) before the watch fired: it never will.
  SessionEnded = -1,
};
std::string_view watch_event_name(WatchEventType t);

struct WatchEvent {
  WatchEventType type = WatchEventType::SessionEnded;
  std::string path;
  SessionState state = SessionState::Connected;  // for SessionEnded: Expired or Closed
};

// Replies. A watch future is valid only where ZooKeeper would have registered the watch:
// get/children on an existing node, exists on any path (a missing node is watched for
// creation).
struct CreateReply {
  Error err = Error::Ok;
  std::string path;  // the created path (with the sequence suffix for sequential modes)
  Stat stat;
};
struct GetReply {
  Error err = Error::Ok;
  std::string data;
  Stat stat;
  Future<WatchEvent> watch;
};
struct ExistsReply {
  Error err = Error::Ok;  // Ok if the node exists, NoNode if not
  Stat stat;
  Future<WatchEvent> watch;
};
struct ChildrenReply {
  Error err = Error::Ok;
  std::vector<std::string> children;  // names, not paths; order unspecified
  Stat stat;
  Future<WatchEvent> watch;
};
struct SetReply {
  Error err = Error::Ok;
  Stat stat;
};

enum class OpType { Create, Remove, Set, Check };
struct Op {
  OpType type = OpType::Check;
  std::string path;
  std::string data;
  CreateMode mode = CreateMode::Persistent;
  int32_t version = -1;  // -1 matches any version
  static Op create(std::string path, std::string data, CreateMode mode) {
    return Op{OpType::Create, std::move(path), std::move(data), mode, -1};
  }
  static Op remove(std::string path, int32_t version = -1) {
    return Op{OpType::Remove, std::move(path), {}, CreateMode::Persistent, version};
  }
  static Op set(std::string path, std::string data, int32_t version = -1) {
    return Op{OpType::Set, std::move(path), std::move(data), CreateMode::Persistent, version};
  }
  static Op check(std::string path, int32_t version) {
    return Op{OpType::Check, std::move(path), {}, CreateMode::Persistent, version};
  }
};
struct OpResult {
  Error err = Error::Ok;
  std::string path;  // for creates
  Stat stat;         // for creates and sets
};
struct MultiReply {
  // Ok if every op applied; otherwise the first failing op's error, and nothing applied.
  Error err = Error::Ok;
  // One per op. On failure: ops before the failing one report Ok, the failing one its
  // error, the ones after it RuntimeInconsistency (as ZooKeeper reports them).
  std::vector<OpResult> results;
};

class Session {
 public:
  virtual ~Session() = default;

  virtual Future<CreateReply> create(const std::string& path, const std::string& data,
                                     CreateMode mode, Duration ttl = Duration(0)) = 0;
  virtual Future<Error> remove(const std::string& path, int32_t version = -1) = 0;
  virtual Future<GetReply> get(const std::string& path, bool watch = false) = 0;
  virtual Future<ExistsReply> exists(const std::string& path, bool watch = false) = 0;
  virtual Future<ChildrenReply> children(const std::string& path, bool watch = false) = 0;
  virtual Future<SetReply> set(const std::string& path, const std::string& data,
                               int32_t version = -1) = 0;
  virtual Future<MultiReply> multi(const std::vector<Op>& ops) = 0;
  // Ends the session on the server (its ephemerals go); afterwards every call gets Closing.
  virtual Future<Unit> close() = 0;
  // Gives the session up on this client alone, as a client library does that declares it
  // lost on its own clock (Curator's injectSessionExpiration: the handle's state becomes
  // CLOSED, its watchers hear Expired, no closeSession goes to the server). From then on
  // the session is Expired here: what was pending fails with SessionExpired, watches end,
  // the Expired event goes out, every call gets SessionExpired. The server is not told:
  // it keeps the session, and its ephemerals, until it expires it on its own clock. Ok,
  // or why not: SessionExpired or Closing if it had ended already, Unimplemented where a
  // store cannot do it (the default).
  virtual Error abandon() { return Error::Unimplemented; }

  virtual SessionState state() const = 0;
  virtual int64_t id() const = 0;
  virtual Duration timeout() const = 0;  // as negotiated with the server
  // Set at the next session event after this call.
  virtual Future<SessionEvent> next_event() = 0;
  // Set once the session has ended (Expired or Closed), as this client learns it.
  virtual Future<SessionState> ended() = 0;
};

struct ConnectReply {
  Error err = Error::Ok;
  std::shared_ptr<Session> session;
};

// A place sessions are opened on: a simulated cluster, a live ensemble, an in-process store.
class Store {
 public:
  virtual ~Store() = default;
  // Opens a session for the process `env`; set once connected (or failed).
  virtual Future<ConnectReply> connect(Env& env, Duration session_timeout) = 0;
  virtual std::string describe() const = 0;
};

// Helpers on paths shared by algorithms and stores.
std::string parent_path(std::string_view path);
// The same as a view into `path`, for lookups that need no string of their own.
std::string_view parent_view(std::string_view path);
std::string_view base_name(std::string_view path);
std::string join_path(std::string_view dir, std::string_view name);
// The number after the last '-' of a sequential node's name, if any.
std::optional<int64_t> sequence_number(std::string_view name);
// Validates a path as ZooKeeper does (absolute, no empty segment, no trailing '/', no "."/"..").
bool valid_path(std::string_view path);
// The C client's isValidPath (zookeeper.c), run before a request is sent: what it refuses
// never reaches a server. A sequential create may end in '/' (or "/.", "/..") since the
// suffix follows it.
bool c_client_path_valid(std::string_view path, bool sequential);
// A create the C client cannot carry inside a multi: a TTL mode (zoo_create_op_init has
// no TTL) or a container (the client aborts decoding the reply, deserialize_multi's
// assertion). Every store refuses the whole multi with Unimplemented, as the adapter must.
bool multi_create_unsupported(const Op& op);

}  // namespace lockstep
