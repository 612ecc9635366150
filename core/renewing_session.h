// A session to a store that has no sessions of its own (Redis, DynamoDB), kept on a
// ZooKeeper session: once that session has expired, the next call opens a new one
// first, as those stores' clients reconnect and go on. Calls already in flight when it
// expired fail as they did. Only for algorithms that keep no ephemeral nodes and no
// watches across calls (AlgorithmInfo::sessionless).
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "core/env.h"
#include "core/store.h"
#include "core/task.h"

namespace lockstep {

class RenewingSession final : public Session, public std::enable_shared_from_this<RenewingSession> {
 public:
  // `open` opens a new session (and keeps trying until it has one).
  using Opener = std::function<Task<std::shared_ptr<Session>>()>;
  RenewingSession(Env& env, std::shared_ptr<Session> first, Opener open);

  Future<CreateReply> create(const std::string& path, const std::string& data, CreateMode mode,
                             Duration ttl = Duration(0)) override;
  Future<Error> remove(const std::string& path, int32_t version = -1) override;
  Future<GetReply> get(const std::string& path, bool watch = false) override;
  Future<ExistsReply> exists(const std::string& path, bool watch = false) override;
  Future<ChildrenReply> children(const std::string& path, bool watch = false) override;
  Future<SetReply> set(const std::string& path, const std::string& data,
                       int32_t version = -1) override;
  Future<MultiReply> multi(const std::vector<Op>& ops) override;
  Future<Unit> close() override;
  // Gives up the session now under it; the next call opens a new one.
  Error abandon() override { return inner_->abandon(); }

  // Of the session now under it: after a renewal, the new one's.
  SessionState state() const override;
  int64_t id() const override { return inner_->id(); }
  Duration timeout() const override { return inner_->timeout(); }
  Future<SessionEvent> next_event() override { return inner_->next_event(); }
  Future<SessionState> ended() override { return inner_->ended(); }

  // How many times a new session was opened under it.
  int renewals() const { return renewals_; }

 private:
  template <class R>
  Future<R> call(std::function<Future<R>(Session&)> op);
  template <class R>
  static Task<void> renew_then(std::shared_ptr<RenewingSession> self,
                               std::function<Future<R>(Session&)> op, Promise<R> out);
  Task<void> renew();
  bool needs_renewal() const;

  Env& env_;
  std::shared_ptr<Session> inner_;
  Opener open_;
  bool closed_ = false;
  bool renewing_ = false;
  std::vector<Promise<Unit>> waiting_;  // calls waiting for the renewal under way
  int renewals_ = 0;
};

}  // namespace lockstep
