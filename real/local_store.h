// The `local:` store of `lockstep live`: ZooKeeper's data tree (core/zk/data_tree.h, the
// simulated server's, with the same semantics) inside this process, in real time, with no
// server, and the clients as threads of this process, each on its own event loop.
//
// A session stays alive while its client's loop pings it (every third of its timeout; any
// request counts too): a client whose loop is stopped (the pause fault) has its session
// expired after the timeout, its ephemerals deleted and its watches fired, as a server
// would. The client learns it at once when its loop runs again (Expired; there is no
// connection to lose, so no Suspended first). Replies and watch notifications are posted
// to the loop of the session's client, notifications before the reply of the write that
// caused them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/shared_registry.h"
#include "core/store.h"
#include "real/live_runner.h"

namespace lockstep::real {

class LocalStore final : public Store {
 public:
  LocalStore();
  ~LocalStore() override;
  LocalStore(const LocalStore&) = delete;
  LocalStore& operator=(const LocalStore&) = delete;

  // Sessions ask for any timeout; the store grants it as asked.
  Future<ConnectReply> connect(Env& env, Duration session_timeout) override;
  std::string describe() const override { return "local:"; }

  // Ends the session now (as closing a second handle with its id does on a server).
  // Ok, or SessionExpired if it was gone already. Thread-safe.
  Error expire(int64_t session);
  // Ends, as a close would, every session whose replies go to `ex`, without telling it:
  // called before that executor goes, so nothing is posted to it any more.
  void detach(Executor* ex);

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

// Clients as threads on a LocalStore. A pause blocks the client's loop; a crash has no
// form here (a thread cannot be killed) and neither has kill-leader (there is no server).
class LocalBackend final : public LiveBackend {
 public:
  LocalBackend();
  ~LocalBackend() override;

  std::string describe() const override { return "local:"; }
  Store& admin_store() override { return store_; }
  void start(const LiveClientSpec& spec) override;
  std::vector<ClientMessage> poll(Duration wait) override;
  bool running(int client) const override;
  bool suspend(int client) override;
  bool resume(int client) override;
  std::string crash(int client) override;
  Error expire(const SessionRef& session) override;
  void kill_all() override;

  struct Client;

 private:
  struct Queue;
  LocalStore store_;
  SharedRegistry registry_;
  std::shared_ptr<Queue> queue_;
  std::vector<std::unique_ptr<Client>> clients_;
};

}  // namespace lockstep::real
