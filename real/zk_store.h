// The Store interface on a live ZooKeeper, through the single-threaded C client
// (libzookeeper_st, async API). The EventLoop of the process that opens a session drives
// it: it waits on the session's socket with its other work and timers, and the client's
// completions and watch notifications run there and are posted as the loop's work, where
// the promise is set. A reply therefore reaches its coroutine without a thread hop
// (docs/bench.md: the multi-threaded client's I/O and completion threads cost a release
// about 34 context switches). The executor must be that EventLoop and must outlive the
// session. A session lives (pings, reconnects, hears its expiry) only while its loop runs.
//
// Connect strings are the C client's: "host:port[,host:port...][/chroot]". A chroot must
// exist before sessions use it (see ensure_chroot).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/store.h"
#include "core/task.h"
#include "real/zk_auth.h"

namespace lockstep::real {

// A session's identity as the server knows it; enough to reattach to it (and so to
// expire it from outside, see expire_session).
struct ZkClientId {
  int64_t id = 0;
  std::string passwd;  // 16 bytes, opaque
};

struct ZkOptions {
  // How long connect() waits for the first handshake before giving up with
  // ConnectionLoss; zero means the session timeout.
  Duration connect_timeout = Duration(0);
  // Set: every session adds this identity and every node it creates is writable and
  // deletable by that identity only (see zk_auth.h).
  std::optional<ZkAuth> auth;
};

class ZkStore final : public Store {
 public:
  explicit ZkStore(std::string connect_string, ZkOptions options = {});

  Future<ConnectReply> connect(Env& env, Duration session_timeout) override;
  std::string describe() const override { return "zk:" + connect_string_; }

  const std::string& connect_string() const { return connect_string_; }
  // The hosts part (without the chroot) and the chroot ("" if none).
  std::string hosts() const;
  std::string chroot() const;

  // Creates the chroot path (and its parents) if missing, through a session opened on
  // the hosts without the chroot.
  Task<Error> ensure_chroot(Env& env, Duration connect_within = std::chrono::seconds(10));

  // Empty if the connect string is well formed, else what is wrong with it.
  static std::string validate(const std::string& connect_string);

 private:
  std::string connect_string_;
  ZkOptions options_;
};

class ZkSession;
struct ZkCore;

class ZkSession final : public Session {
 public:
  ~ZkSession() override;

  Future<CreateReply> create(const std::string& path, const std::string& data, CreateMode mode,
                             Duration ttl = Duration(0)) override;
  Future<Error> remove(const std::string& path, int32_t version = -1) override;
  Future<GetReply> get(const std::string& path, bool watch = false) override;
  Future<ExistsReply> exists(const std::string& path, bool watch = false) override;
  Future<ChildrenReply> children(const std::string& path, bool watch = false) override;
  Future<SetReply> set(const std::string& path, const std::string& data,
                       int32_t version = -1) override;
  // A TTL create inside a multi gets Unimplemented for the whole multi, as the C client
  // answers (it cannot encode one).
  Future<MultiReply> multi(const std::vector<Op>& ops) override;
  // Refuses new calls at once, lets requests already sent get their answers (bounded by
  // the session timeout; the loop must run), closes the handle on a thread of its own,
  // then makes sure the server ended the session (see expire_session). Set once all of
  // that is done; on an expired session, at once.
  Future<Unit> close() override;
  // Only while Suspended (InvalidState otherwise): the handle is then reconnecting, and
  // zookeeper_close frees it without a closeSession. Pending requests fail with
  // SessionExpired; the server expires the session when its timeout lapses there.
  Error abandon() override;

  SessionState state() const override;
  int64_t id() const override;
  Duration timeout() const override;
  Future<SessionEvent> next_event() override;
  Future<SessionState> ended() override;

  ZkClientId client_id() const;
  // Expires this session on the server now, with the second-handle trick (see
  // expire_session). The blocking part runs on a helper thread; the future is set on
  // this session's executor. The session learns of its expiry as a real client does:
  // when its connection is dropped and it reconnects.
  Future<Error> expire();

  // Watcher and request contexts currently held (for leak tests): zero once closed.
  size_t live_contexts() const;

 private:
  friend class ZkStore;
  explicit ZkSession(std::shared_ptr<ZkCore> core);
  void start_close();

  // Its closing and expiring threads are joined at destruction. Destroy a session on its
  // loop's thread, or once the loop no longer runs: a session not closed yet is closed
  // there and then, driving its handle on the destroying thread.
  std::shared_ptr<ZkCore> core_;
};

// Expires the session `who` on the server: opens a second handle with the same id and
// password and closes it, which ends the session as if its owner had closed it (its
// ephemerals go, its watches fire); its owner learns it is Expired when it reconnects.
// Repeats until the server answers that the session is gone, so on Ok it is. Blocks the
// calling thread (up to `timeout`). Ok if this call ended it; SessionExpired if it was
// already gone (or the password is wrong); OperationTimeout if no server answered.
Error expire_session(const std::string& connect_string, const ZkClientId& who,
                     Duration timeout = std::chrono::seconds(10));

// Session-generic helpers for setup and cleanup (tests, the live runner).
// Creates `path` and any missing parents as persistent nodes; Ok if it exists already.
Task<Error> ensure_path(Session& session, std::string path);
// Removes `path` and everything under it; Ok if it did not exist. Retries when a child
// appears or vanishes meanwhile.
Task<Error> remove_recursive(Session& session, std::string path);

// Sets the C client's log level from LOCKSTEP_ZK_LOG (off|error|warn|info|debug;
// default error). Called by ZkStore's constructor; idempotent.
void configure_zk_logging();

}  // namespace lockstep::real
