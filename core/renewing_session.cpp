#include "core/renewing_session.h"

#include <utility>

namespace lockstep {

RenewingSession::RenewingSession(Env& env, std::shared_ptr<Session> first, Opener open)
    : env_(env), inner_(std::move(first)), open_(std::move(open)) {}

namespace {

Error error_of(Error e) { return e; }
template <class R>
Error error_of(const R& reply) {
  return reply.err;
}

}  // namespace

bool RenewingSession::needs_renewal() const {
  return !closed_ && inner_->state() == SessionState::Expired;
}

SessionState RenewingSession::state() const {
  // An expired session under it is about to be replaced: the caller can go on using it.
  return needs_renewal() ? SessionState::Suspended : inner_->state();
}

template <class R>
Future<R> RenewingSession::call(std::function<Future<R>(Session&)> op) {
  // Connected, a call goes straight through: if the connection then breaks, it is lost
  // as a request to those stores can be (ConnectionLoss). Otherwise it waits for a
  // session, and one refused as expired before it was sent goes again on a new one.
  if (closed_ || (inner_->state() == SessionState::Connected && !renewing_)) return op(*inner_);
  Promise<R> out;
  Future<R> result = out.future();
  env_.spawn(renew_then<R>(shared_from_this(), std::move(op), std::move(out)));
  return result;
}

template <class R>
Task<void> RenewingSession::renew_then(std::shared_ptr<RenewingSession> self,
                                       std::function<Future<R>(Session&)> op, Promise<R> out) {
  co_await self->renew();
  Future<R> first = op(*self->inner_);
  R answer = co_await first;
  if (error_of(answer) == Error::SessionExpired && !self->closed_) {
    co_await self->renew();
    Future<R> again = op(*self->inner_);
    answer = co_await again;
  }
  out.set(std::move(answer));
}

Task<void> RenewingSession::renew() {
  if (renewing_) {
    Promise<Unit> done;
    waiting_.push_back(done);
    Future<Unit> ready = done.future();
    co_await ready;
    co_return;
  }
  if (!needs_renewal()) co_return;
  renewing_ = true;
  std::shared_ptr<Session> fresh = co_await open_();
  inner_ = std::move(fresh);
  ++renewals_;
  renewing_ = false;
  std::vector<Promise<Unit>> waiting = std::move(waiting_);
  waiting_.clear();
  for (auto& w : waiting) w.set(Unit{});
}

Future<CreateReply> RenewingSession::create(const std::string& path, const std::string& data,
                                            CreateMode mode, Duration ttl) {
  return call<CreateReply>(
      [path, data, mode, ttl](Session& s) { return s.create(path, data, mode, ttl); });
}

Future<Error> RenewingSession::remove(const std::string& path, int32_t version) {
  return call<Error>([path, version](Session& s) { return s.remove(path, version); });
}

Future<GetReply> RenewingSession::get(const std::string& path, bool watch) {
  return call<GetReply>([path, watch](Session& s) { return s.get(path, watch); });
}

Future<ExistsReply> RenewingSession::exists(const std::string& path, bool watch) {
  return call<ExistsReply>([path, watch](Session& s) { return s.exists(path, watch); });
}

Future<ChildrenReply> RenewingSession::children(const std::string& path, bool watch) {
  return call<ChildrenReply>([path, watch](Session& s) { return s.children(path, watch); });
}

Future<SetReply> RenewingSession::set(const std::string& path, const std::string& data,
                                      int32_t version) {
  return call<SetReply>([path, data, version](Session& s) { return s.set(path, data, version); });
}

Future<MultiReply> RenewingSession::multi(const std::vector<Op>& ops) {
  return call<MultiReply>([ops](Session& s) { return s.multi(ops); });
}

Future<Unit> RenewingSession::close() {
  closed_ = true;
  return inner_->close();
}

}  // namespace lockstep
