// The simulated ZooKeeper client library, with the session life of the real C client:
// a ping after 1/3 of the negotiated timeout without sending, "disconnected" after 2/3
// without hearing anything, every pending request failed with ConnectionLoss on a
// disconnect, reconnection with the session id, watches re-registered with SetWatches,
// and expiry learned only when the server says so on reconnecting.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/store.h"
#include "sim/network.h"
#include "sim/process.h"
#include "sim/zk/protocol.h"

namespace lockstep::sim {

class ZkServer;

struct ClientStats {
  int64_t notifications = 0;  // watch notifications received by client libraries
};

class SimSession final : public Session, public std::enable_shared_from_this<SimSession> {
 public:
  SimSession(Process& process, Network& network, ZkServer& server, Duration requested_timeout,
             ClientStats* stats);
  ~SimSession() override;

  // Starts connecting; `connected` is set when the first handshake completes.
  void start(Promise<ConnectReply> connected);

  Future<CreateReply> create(const std::string& path, const std::string& data, CreateMode mode,
                             Duration ttl) override;
  Future<Error> remove(const std::string& path, int32_t version) override;
  Future<GetReply> get(const std::string& path, bool watch) override;
  Future<ExistsReply> exists(const std::string& path, bool watch) override;
  Future<ChildrenReply> children(const std::string& path, bool watch) override;
  Future<SetReply> set(const std::string& path, const std::string& data, int32_t version) override;
  Future<MultiReply> multi(const std::vector<Op>& ops) override;
  Future<Unit> close() override;
  Error abandon() override;

  SessionState state() const override { return state_; }
  int64_t id() const override { return id_; }
  Duration timeout() const override { return std::chrono::milliseconds(timeout_ms_); }
  Future<SessionEvent> next_event() override;
  Future<SessionState> ended() override { return ended_.future(); }

 private:
  // Completes a request with the server's reply, or with only an error (no reply).
  using Completion = std::function<void(const Reply* reply, Error err)>;
  struct Pending {
    RequestPtr request;
    Completion done;
  };

  // The error every call gets once the session has ended or is closing, before any
  // check of its arguments (as the live adapter answers).
  std::optional<Error> refusal() const;
  void submit(std::shared_ptr<Request> r, Completion done);
  void connect_now();
  void send(RequestPtr r);
  void on_reply(const ReplyPtr& r);
  void on_connected(const Reply& r);
  void on_notification(const Reply& r);
  void disconnect(const char* why);
  void end(SessionState final_state, Error pending_error);
  void fail_all(Error err);
  void emit(SessionEvent e);
  void schedule_reconnect();
  Task<void> heartbeat(std::shared_ptr<SimSession> self, uint64_t epoch, uint64_t generation);
  void trace(const std::string& ev, const std::string& extra = "");
  Future<WatchEvent> add_watch(std::map<std::string, std::vector<Promise<WatchEvent>>>& table,
                               const std::string& path);

  Process& process_;
  Network& network_;
  ZkServer& server_;
  ClientStats* stats_;
  int64_t requested_timeout_ms_;
  int64_t timeout_ms_;
  int64_t id_ = 0;
  int64_t last_zxid_ = 0;
  int64_t next_xid_ = 0;
  SessionState state_ = SessionState::Connecting;
  bool ever_connected_ = false;
  bool handshaking_ = false;
  bool closing_ = false;
  uint64_t epoch_ = 0;
  uint64_t heartbeat_generation_ = 0;  // connection attempts; stale timers and callbacks compare it
  ConnectionPtr conn_;
  Time last_send_{0};
  Time last_recv_{0};
  std::deque<Pending> in_flight_;
  std::deque<Pending> queued_;  // submitted while not connected
  std::map<std::string, std::vector<Promise<WatchEvent>>> data_watches_, exist_watches_,
      child_watches_;
  std::vector<Promise<SessionEvent>> event_waiters_;
  Promise<SessionState> ended_;
  Promise<ConnectReply> connected_;
  std::vector<Promise<Unit>> close_waiters_;
};

// The simulated ensemble as a Store: sessions opened from simulated processes.
class SimStore final : public Store {
 public:
  SimStore(Network& network, ZkServer& server, ClientStats* stats)
      : network_(network), server_(server), stats_(stats) {}
  Future<ConnectReply> connect(Env& env, Duration session_timeout) override;
  std::string describe() const override { return "sim:"; }

 private:
  Network& network_;
  ZkServer& server_;
  ClientStats* stats_;
};

}  // namespace lockstep::sim
