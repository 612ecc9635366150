// The simulated ZooKeeper server: one process with its own clocks, the data tree, the
// session tracker (expiry in tick-sized buckets on the server's monotonic clock, as
// ZooKeeper's ExpiryQueue reads elapsed time), the container manager's TTL pass (on the
// wall clock, as ZooKeeper compares a node's mtime with currentWallTime), and the request pipeline
// (requests of one connection in order; watch notifications go out before the reply of
// the write that triggered them).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "core/prng.h"
#include "core/zk/data_tree.h"
#include "sim/network.h"
#include "sim/process.h"
#include "sim/scenario.h"
#include "sim/world.h"

namespace lockstep::sim {

struct ServerStats {
  int64_t requests = 0;       // client requests processed (pings and connects excluded)
  int64_t notifications = 0;  // watch notifications sent
};

class ZkServer {
 public:
  // `store`: the index faults name it by (-1: a server no store fault reaches).
  ZkServer(World& world, Network& network, Process& process, ServerSpec spec, std::string name,
           int store);

  // Starts the session tracker and the container manager.
  void start();
  // A client connected: the server now listens on `c`.
  void accept(const ConnectionPtr& c);

  // Fault hooks.
  void expire_session(int64_t session);  // as if its timeout lapsed now
  // The server process dies: every connection breaks, nothing is processed.
  void crash();
  // Back up. With `persist` the tree and the sessions come back from the snapshot and
  // log (each session's expiry restarts from now, as ZooKeeper's loaded tracker does);
  // without it the server starts empty and every session is unknown (expired).
  void restart(bool persist);
  bool up() const { return up_; }
  // The server's wall clock steps (a jump, a strobe's swing): node times and TTL expiry
  // follow it; the session tracker, on the monotonic clock, does not. A drift is the
  // process clock's rate, under both.
  void step_wall_clock(Duration by) { wall_offset_ += by; }
  // Set to make the next matching request lose its reply (the connection breaks after
  // the request is applied). Returns false when the request should be answered.
  std::function<bool(int client, int store, RequestKind kind)> lose_reply;
  // Told of each set the server applies (path, the zxid it got): how a run learns when a
  // resource write took effect, in the store's order, whenever its reply arrives.
  std::function<void(const std::string& path, int64_t zxid)> on_set_applied;

  DataTree& tree() { return tree_; }
  Process& process() { return process_; }
  const std::string& name() const { return name_; }
  int store() const { return store_; }
  const ServerStats& stats() const { return stats_; }
  size_t session_count() const { return sessions_.size(); }
  // The client index that owns a session (-1 if unknown).
  int session_client(int64_t session) const;
  // The live sessions a client owns, in id order.
  std::vector<int64_t> sessions_of(int client) const;
  // The client that opened a session, whether it is still open or not (-1 if none did):
  // what a report names as the owner of a node left behind.
  int opener_of(int64_t session) const;

 private:
  struct SessionInfo {
    int client = -1;
    int64_t timeout_ms = 0;
    int64_t expires_at_ms = 0;  // server clock, rounded up to a tick boundary
    ConnectionPtr conn;
  };

  // The monotonic clock (session expiry) and the wall clock (node times, TTLs), in ms.
  int64_t now_ms() const;
  int64_t wall_ms() const;
  void touch(SessionInfo& s);
  void on_request(const ConnectionPtr& c, const RequestPtr& r);
  void on_eof(const ConnectionPtr& c);
  void handle_connect(const ConnectionPtr& c, const Request& r);
  void handle_op(const ConnectionPtr& c, int64_t session, const Request& r);
  void kill(int64_t session, const char* why);
  // One watch notification, on a connection.
  void notify(const ConnectionPtr& conn, const WatchFire& f);
  void send_fires(const std::vector<WatchFire>& fires);
  void send(const ConnectionPtr& c, std::shared_ptr<Reply> reply);
  void tick();
  void ttl_pass();
  void trace_request(int64_t session, const Request& r, Error err, const std::string& extra);
  World& world_;
  Network& network_;
  Process& process_;
  ServerSpec spec_;
  std::string name_;
  int store_;
  // The order children are listed in (core/zk/listing_order.h): a stream of the world's seed
  // of its own: drawing it from the world's
  // stream would shift every later latency and fault draw, so a lock that sorts its
  // listing (as every correct one does) would see a different run for no reason.
  Prng listing_order_;
  DataTree tree_;
  std::map<int64_t, SessionInfo> sessions_;
  std::map<int64_t, int> openers_;            // every session ever opened -> its client
  std::map<uint64_t, int64_t> conn_session_;  // connection id -> session
  std::vector<ConnectionPtr> connections_;    // every accepted one, for a crash to break
  bool up_ = true;
  Duration wall_offset_{0};  // the wall clock's steps so far
  int64_t next_session_ = 0;
  ServerStats stats_;
};

}  // namespace lockstep::sim
