#include "sim/zk/client.h"

#include <algorithm>
#include <cstdio>

#include "core/json.h"
#include "sim/zk/server.h"

namespace lockstep::sim {

namespace {
int64_t to_ms(Duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

// The C client's own check: a sequential create may end in '/', "/." or "/.." since the
// suffix follows.
bool valid_create_path(const std::string& path, CreateMode mode) {
  return c_client_path_valid(path, is_sequential(mode));
}
bool valid_request_path(const std::string& path) { return c_client_path_valid(path, false); }
}  // namespace

SimSession::SimSession(Process& process, Network& network, ZkServer& server,
                       Duration requested_timeout, ClientStats* stats)
    : process_(process),
      network_(network),
      server_(server),
      stats_(stats),
      requested_timeout_ms_(to_ms(requested_timeout)),
      timeout_ms_(to_ms(requested_timeout)) {}

SimSession::~SimSession() {
  if (conn_) network_.close_by_client(conn_);
}

void SimSession::start(Promise<ConnectReply> connected) {
  connected_ = std::move(connected);
  std::weak_ptr<SimSession> weak = shared_from_this();
  process_.on_crash([weak] {
    // The process died: the OS closes the socket; nothing else of the library survives.
    if (auto self = weak.lock()) {
      ++self->epoch_;
      if (self->conn_) self->network_.close_by_client(self->conn_);
      self->conn_ = nullptr;
      self->state_ = SessionState::Closed;
    }
  });
  connect_now();
}

void SimSession::trace(const std::string& ev, const std::string& extra) {
  World& w = process_.world();
  if (!w.tracing()) return;
  char session[32];
  std::snprintf(session, sizeof session, "0x%llx", static_cast<unsigned long long>(id_));
  w.trace("\"src\":\"client " + std::to_string(process_.client_index()) + "\",\"ev\":\"" + ev +
          "\",\"session\":\"" + session + "\"" + extra);
}

void SimSession::connect_now() {
  ++epoch_;
  const uint64_t epoch = epoch_;
  conn_ = network_.open(&process_, process_.client_index(), &server_.process(), server_.store());
  server_.accept(conn_);
  std::weak_ptr<SimSession> weak = shared_from_this();
  conn_->client_receive = [weak, epoch](const ReplyPtr& r) {
    auto self = weak.lock();
    if (self && self->epoch_ == epoch) self->on_reply(r);
  };
  conn_->client_eof = [weak, epoch] {
    auto self = weak.lock();
    if (self && self->epoch_ == epoch) self->disconnect("connection closed");
  };
  handshaking_ = true;
  auto req = std::make_shared<Request>();
  req->kind = RequestKind::Connect;
  req->session_id = id_;
  req->timeout_ms = requested_timeout_ms_;
  req->last_zxid = last_zxid_;
  last_recv_ = process_.now();
  send(req);
  process_.spawn(heartbeat(shared_from_this(), epoch, ++heartbeat_generation_));
}

// The library lives while its heartbeat does: `self` keeps it (a parameter, so the
// reference is taken when the task is created, not when it first runs).
Task<void> SimSession::heartbeat([[maybe_unused]] std::shared_ptr<SimSession> self, uint64_t epoch,
                                 uint64_t generation) {
  for (;;) {
    if (epoch != epoch_ || generation != heartbeat_generation_ || state_ == SessionState::Expired ||
        state_ == SessionState::Closed)
      co_return;
    const Duration t = std::chrono::milliseconds(timeout_ms_);
    const Time now = process_.now();
    const Time recv_deadline = last_recv_ + t * 2 / 3;
    if (now >= recv_deadline) {
      disconnect(handshaking_ ? "connect timed out" : "no reply for 2/3 of the session timeout");
      co_return;
    }
    Time wake = recv_deadline;
    if (!handshaking_) {
      const Time ping_at = last_send_ + t / 3;
      if (now >= ping_at) {
        auto ping = std::make_shared<Request>();
        ping->kind = RequestKind::Ping;
        ping->xid = -2;
        send(ping);
        continue;
      }
      wake = std::min(wake, ping_at);
    }
    co_await process_.timer_at(wake);
  }
}

void SimSession::send(RequestPtr r) {
  last_send_ = process_.now();
  network_.to_server(conn_, std::move(r));
}

std::optional<Error> SimSession::refusal() const {
  // A handle the client closed refuses with Closing even if its session had expired
  // first: the C client frees it, so the live adapter can only say Closing (store.h).
  if (state_ == SessionState::Closed || closing_) return Error::Closing;
  if (state_ == SessionState::Expired) return Error::SessionExpired;
  return std::nullopt;
}

void SimSession::submit(std::shared_ptr<Request> r, Completion done) {
  if (auto e = refusal()) return done(nullptr, *e);
  r->xid = ++next_xid_;
  Pending p{r, std::move(done)};
  if (state_ == SessionState::Connected && conn_ && !handshaking_) {
    send(r);
    in_flight_.push_back(std::move(p));
  } else {
    queued_.push_back(std::move(p));
  }
}

void SimSession::on_reply(const ReplyPtr& r) {
  last_recv_ = process_.now();
  // ZooKeeper's ConnectResponse carries no zxid: the zxid the client reports in SetWatches
  // is the last it saw before the reconnect, so the server fires what changed meanwhile.
  if (r->kind != ReplyKind::Connected && r->zxid > last_zxid_) last_zxid_ = r->zxid;
  switch (r->kind) {
    case ReplyKind::Connected:
      on_connected(*r);
      return;
    case ReplyKind::Pong:
      return;
    case ReplyKind::Notification:
      on_notification(*r);
      return;
    case ReplyKind::Response: {
      if (in_flight_.empty() || in_flight_.front().request->xid != r->xid) {
        // Replies come in request order on one connection; anything else is a broken stream.
        disconnect("reply out of order");
        return;
      }
      Pending p = std::move(in_flight_.front());
      in_flight_.pop_front();
      p.done(r.get(), r->err);
      return;
    }
  }
}

void SimSession::on_connected(const Reply& r) {
  handshaking_ = false;
  if (r.timeout_ms == 0) {
    trace("expired_learned");
    end(SessionState::Expired, Error::SessionExpired);
    return;
  }
  id_ = r.session_id;
  timeout_ms_ = r.timeout_ms;
  state_ = SessionState::Connected;
  // The handshake's wait was sized for connecting; from now on ping on the negotiated timeout.
  process_.spawn(heartbeat(shared_from_this(), epoch_, ++heartbeat_generation_));
  if (!ever_connected_) {
    ever_connected_ = true;
    trace("connected", ",\"timeout_ms\":" + std::to_string(timeout_ms_));
    emit(SessionEvent::Connected);
    connected_.set(ConnectReply{Error::Ok, shared_from_this()});
    // The reply holds this session: keeping its state here too would be a cycle that
    // outlives the run. The caller's future keeps the state until it reads it.
    connected_ = Promise<ConnectReply>{};
  } else {
    trace("reconnected");
    emit(SessionEvent::Reconnected);
    if (!data_watches_.empty() || !exist_watches_.empty() || !child_watches_.empty()) {
      auto sw = std::make_shared<Request>();
      sw->kind = RequestKind::SetWatches;
      sw->xid = -8;
      sw->last_zxid = last_zxid_;
      for (auto& [p, v] : data_watches_) sw->data_watches.push_back(p);
      for (auto& [p, v] : exist_watches_) sw->exist_watches.push_back(p);
      for (auto& [p, v] : child_watches_) sw->child_watches.push_back(p);
      // SetWatches gets a reply like any request; keep the FIFO matching intact.
      in_flight_.push_back(Pending{sw, [](const Reply*, Error) {}});
      send(sw);
    }
  }
  auto queued = std::move(queued_);
  queued_.clear();
  for (auto& p : queued) {
    send(p.request);
    in_flight_.push_back(std::move(p));
  }
}

void SimSession::on_notification(const Reply& r) {
  if (stats_) ++stats_->notifications;
  std::vector<Promise<WatchEvent>> fire;
  auto take = [&](std::map<std::string, std::vector<Promise<WatchEvent>>>& table) {
    auto it = table.find(r.path);
    if (it == table.end()) return;
    for (auto& p : it->second) fire.push_back(p);
    table.erase(it);
  };
  // Which client-side tables an event empties, as the C client's collectWatchers does.
  switch (r.event) {
    case WatchEventType::Created:
    case WatchEventType::DataChanged:
      take(data_watches_);
      take(exist_watches_);
      break;
    case WatchEventType::Deleted:
      take(data_watches_);
      take(exist_watches_);
      take(child_watches_);
      break;
    case WatchEventType::ChildrenChanged:
      take(child_watches_);
      break;
    case WatchEventType::SessionEnded:
      break;
  }
  if (process_.world().tracing())
    trace("watch", ",\"type\":\"" + std::string(watch_event_name(r.event)) +
                       "\",\"path\":" + json_quote(r.path));
  for (auto& p : fire) p.set(WatchEvent{r.event, r.path, state_});
}

void SimSession::disconnect(const char* why) {
  if (state_ == SessionState::Expired || state_ == SessionState::Closed) return;
  ++epoch_;
  if (conn_) network_.close_by_client(conn_);
  conn_ = nullptr;
  handshaking_ = false;
  if (process_.world().tracing()) trace("disconnected", ",\"why\":" + json_quote(why));
  fail_all(Error::ConnectionLoss);
  if (closing_) {
    end(SessionState::Closed, Error::Closing);
    return;
  }
  if (state_ == SessionState::Connected) {
    state_ = SessionState::Suspended;
    emit(SessionEvent::Suspended);
  }
  schedule_reconnect();
}

void SimSession::schedule_reconnect() {
  const uint64_t epoch = epoch_;
  // A short random back-off before trying the server again, as the C client does.
  Duration delay =
      process_.world().rng().between(std::chrono::milliseconds(5), std::chrono::milliseconds(50));
  process_.spawn(
      [](std::shared_ptr<SimSession> self, uint64_t epoch, Duration delay) -> Task<void> {
        co_await self->process_.sleep_for(delay);
        if (self->epoch_ == epoch && !self->conn_ && self->state_ != SessionState::Expired &&
            self->state_ != SessionState::Closed)
          self->connect_now();
      }(shared_from_this(), epoch, delay));
}

void SimSession::fail_all(Error err) {
  auto in_flight = std::move(in_flight_);
  auto queued = std::move(queued_);
  in_flight_.clear();
  queued_.clear();
  for (auto& p : in_flight) p.done(nullptr, err);
  for (auto& p : queued) p.done(nullptr, err);
}

void SimSession::end(SessionState final_state, Error pending_error) {
  if (state_ == SessionState::Expired || state_ == SessionState::Closed) return;
  state_ = final_state;
  ++epoch_;
  if (conn_) network_.close_by_client(conn_);
  conn_ = nullptr;
  fail_all(pending_error);
  std::vector<Promise<WatchEvent>> fire;
  for (auto* table : {&data_watches_, &exist_watches_, &child_watches_}) {
    for (auto& [path, v] : *table)
      for (auto& p : v) fire.push_back(p);
    table->clear();
  }
  for (auto& p : fire) p.set(WatchEvent{WatchEventType::SessionEnded, "", final_state});
  emit(final_state == SessionState::Expired ? SessionEvent::Expired : SessionEvent::Closed);
  if (!ended_.is_set()) ended_.set(final_state);
  auto waiters = std::move(close_waiters_);
  close_waiters_.clear();
  for (auto& w : waiters) w.set(Unit{});
}

void SimSession::emit(SessionEvent e) {
  auto waiters = std::move(event_waiters_);
  event_waiters_.clear();
  for (auto& w : waiters) w.set(e);
}

Future<SessionEvent> SimSession::next_event() {
  event_waiters_.emplace_back();
  return event_waiters_.back().future();
}

Future<WatchEvent> SimSession::add_watch(
    std::map<std::string, std::vector<Promise<WatchEvent>>>& table, const std::string& path) {
  auto& v = table[path];
  v.emplace_back();
  return v.back().future();
}

Future<CreateReply> SimSession::create(const std::string& path, const std::string& data,
                                       CreateMode mode, Duration ttl) {
  if (auto e = refusal()) return Future<CreateReply>::ready_with(CreateReply{*e, {}, {}});
  if (!valid_create_path(path, mode))
    return Future<CreateReply>::ready_with(CreateReply{Error::BadArguments, {}, {}});
  Promise<CreateReply> p;
  auto r = std::make_shared<Request>();
  r->kind = RequestKind::Create;
  r->path = path;
  r->data = data;
  r->mode = mode;
  r->ttl_ms = to_ms(ttl);
  submit(r, [p](const Reply* reply, Error err) mutable {
    CreateReply out;
    out.err = err;
    if (reply) {
      out.path = reply->path;
      out.stat = reply->stat;
    }
    p.set(std::move(out));
  });
  return p.future();
}

Future<Error> SimSession::remove(const std::string& path, int32_t version) {
  if (auto e = refusal()) return Future<Error>::ready_with(*e);
  if (!valid_request_path(path)) return Future<Error>::ready_with(Error::BadArguments);
  Promise<Error> p;
  auto r = std::make_shared<Request>();
  r->kind = RequestKind::Remove;
  r->path = path;
  r->version = version;
  submit(r, [p](const Reply*, Error err) mutable { p.set(err); });
  return p.future();
}

Future<GetReply> SimSession::get(const std::string& path, bool watch) {
  if (auto e = refusal()) return Future<GetReply>::ready_with(GetReply{*e, {}, {}, {}});
  if (!valid_request_path(path))
    return Future<GetReply>::ready_with(GetReply{Error::BadArguments, {}, {}, {}});
  Promise<GetReply> p;
  auto r = std::make_shared<Request>();
  r->kind = RequestKind::Get;
  r->path = path;
  r->watch = watch;
  std::weak_ptr<SimSession> weak = shared_from_this();
  submit(r, [p, weak, path, watch](const Reply* reply, Error err) mutable {
    GetReply out;
    out.err = err;
    if (reply) {
      out.data = reply->data;
      out.stat = reply->stat;
      auto self = weak.lock();
      if (self && watch && err == Error::Ok) out.watch = self->add_watch(self->data_watches_, path);
    }
    p.set(std::move(out));
  });
  return p.future();
}

Future<ExistsReply> SimSession::exists(const std::string& path, bool watch) {
  if (auto e = refusal()) return Future<ExistsReply>::ready_with(ExistsReply{*e, {}, {}});
  if (!valid_request_path(path))
    return Future<ExistsReply>::ready_with(ExistsReply{Error::BadArguments, {}, {}});
  Promise<ExistsReply> p;
  auto r = std::make_shared<Request>();
  r->kind = RequestKind::Exists;
  r->path = path;
  r->watch = watch;
  std::weak_ptr<SimSession> weak = shared_from_this();
  submit(r, [p, weak, path, watch](const Reply* reply, Error err) mutable {
    ExistsReply out;
    out.err = err;
    if (reply) {
      out.stat = reply->stat;
      auto self = weak.lock();
      if (self && watch && err == Error::Ok) out.watch = self->add_watch(self->data_watches_, path);
      if (self && watch && err == Error::NoNode)
        out.watch = self->add_watch(self->exist_watches_, path);
    }
    p.set(std::move(out));
  });
  return p.future();
}

Future<ChildrenReply> SimSession::children(const std::string& path, bool watch) {
  if (auto e = refusal()) return Future<ChildrenReply>::ready_with(ChildrenReply{*e, {}, {}, {}});
  if (!valid_request_path(path))
    return Future<ChildrenReply>::ready_with(ChildrenReply{Error::BadArguments, {}, {}, {}});
  Promise<ChildrenReply> p;
  auto r = std::make_shared<Request>();
  r->kind = RequestKind::Children;
  r->path = path;
  r->watch = watch;
  std::weak_ptr<SimSession> weak = shared_from_this();
  submit(r, [p, weak, path, watch](const Reply* reply, Error err) mutable {
    ChildrenReply out;
    out.err = err;
    if (reply) {
      out.children = reply->children.make();
      out.stat = reply->stat;
      auto self = weak.lock();
      if (self && watch && err == Error::Ok)
        out.watch = self->add_watch(self->child_watches_, path);
    }
    p.set(std::move(out));
  });
  return p.future();
}

Future<SetReply> SimSession::set(const std::string& path, const std::string& data,
                                 int32_t version) {
  if (auto e = refusal()) return Future<SetReply>::ready_with(SetReply{*e, {}});
  if (!valid_request_path(path))
    return Future<SetReply>::ready_with(SetReply{Error::BadArguments, {}});
  Promise<SetReply> p;
  auto r = std::make_shared<Request>();
  r->kind = RequestKind::Set;
  r->path = path;
  r->data = data;
  r->version = version;
  submit(r, [p](const Reply* reply, Error err) mutable {
    SetReply out;
    out.err = err;
    if (reply) out.stat = reply->stat;
    p.set(std::move(out));
  });
  return p.future();
}

Future<MultiReply> SimSession::multi(const std::vector<Op>& ops) {
  // Refused before sending, with no per-op results: a create the C client cannot carry in
  // a multi anywhere in it (see multi_create_unsupported: Unimplemented) comes first, then
  // an invalid path, which zoo_amulti fails to serialize (MarshallingError).
  if (auto e = refusal()) return Future<MultiReply>::ready_with(MultiReply{*e, {}});
  if (std::any_of(ops.begin(), ops.end(), multi_create_unsupported))
    return Future<MultiReply>::ready_with(MultiReply{Error::Unimplemented, {}});
  for (const Op& op : ops) {
    bool ok = op.type == OpType::Create ? valid_create_path(op.path, op.mode)
                                        : valid_request_path(op.path);
    if (!ok) return Future<MultiReply>::ready_with(MultiReply{Error::MarshallingError, {}});
  }
  Promise<MultiReply> p;
  auto r = std::make_shared<Request>();
  r->kind = RequestKind::Multi;
  r->ops = ops;
  submit(r, [p](const Reply* reply, Error err) mutable {
    MultiReply out;
    out.err = err;
    if (reply) out = reply->multi;
    p.set(std::move(out));
  });
  return p.future();
}

Future<Unit> SimSession::close() {
  if (state_ == SessionState::Expired || state_ == SessionState::Closed) {
    closing_ = true;  // nothing to tell the server, but the handle is gone all the same
    return Future<Unit>::ready_with(Unit{});
  }
  close_waiters_.emplace_back();
  Future<Unit> f = close_waiters_.back().future();
  if (closing_) return f;
  if (state_ == SessionState::Connected && conn_ && !handshaking_) {
    auto r = std::make_shared<Request>();
    r->kind = RequestKind::CloseSession;
    r->xid = ++next_xid_;
    std::weak_ptr<SimSession> weak = shared_from_this();
    closing_ = true;
    send(r);
    in_flight_.push_back(Pending{r, [weak](const Reply*, Error) {
                                   if (auto self = weak.lock())
                                     self->end(SessionState::Closed, Error::Closing);
                                 }});
  } else {
    // Not connected: the handle is freed; the server expires the session in due time.
    end(SessionState::Closed, Error::Closing);
  }
  return f;
}

Error SimSession::abandon() {
  if (auto e = refusal()) return *e;
  // Only the socket closes: the server drops the connection and keeps the session, which
  // its tracker expires once nothing has touched it for the timeout.
  trace("abandoned");
  end(SessionState::Expired, Error::SessionExpired);
  return Error::Ok;
}

Future<ConnectReply> SimStore::connect(Env& env, Duration session_timeout) {
  auto* process = dynamic_cast<Process*>(&env);
  if (!process) return Future<ConnectReply>::ready_with(ConnectReply{Error::BadArguments, nullptr});
  auto session = std::make_shared<SimSession>(*process, network_, server_, session_timeout, stats_);
  Promise<ConnectReply> connected;
  session->start(connected);
  return connected.future();
}

}  // namespace lockstep::sim
