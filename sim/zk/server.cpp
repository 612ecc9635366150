#include "sim/zk/server.h"

#include <algorithm>
#include <cstdio>
#include <string_view>

#include "core/json.h"
#include "core/zk/listing_order.h"

namespace lockstep::sim {

namespace {
std::string hex(int64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "\"0x%llx\"", static_cast<unsigned long long>(v));
  return buf;
}
// Session ids look like a real server's: the server id in the top byte.
constexpr int64_t kSessionBase = int64_t{1} << 56;

// One listing stream per server: the world's seed mixed with the server's name (FNV-1a),
// so the stores of one run list in orders of their own.
uint64_t listing_seed(uint64_t world_seed, const std::string& name) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : name) h = (h ^ c) * 0x100000001b3ull;
  uint64_t x = world_seed ^ h;
  return Prng::splitmix64(x);
}
}  // namespace

ZkServer::ZkServer(World& world, Network& network, Process& process, ServerSpec spec,
                   std::string name, int store)
    : world_(world),
      network_(network),
      process_(process),
      spec_(spec),
      name_(std::move(name)),
      store_(store),
      listing_order_(listing_seed(world.seed(), name_)) {}

int64_t ZkServer::now_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(process_.now()).count();
}

int64_t ZkServer::wall_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(process_.now() + wall_offset_)
      .count();
}

int ZkServer::session_client(int64_t session) const {
  auto it = sessions_.find(session);
  return it == sessions_.end() ? -1 : it->second.client;
}

int ZkServer::opener_of(int64_t session) const {
  auto it = openers_.find(session);
  return it == openers_.end() ? -1 : it->second;
}

std::vector<int64_t> ZkServer::sessions_of(int client) const {
  std::vector<int64_t> out;
  for (const auto& [id, s] : sessions_)
    if (s.client == client) out.push_back(id);
  return out;
}

void ZkServer::start() {
  // The session tracker wakes at every tick boundary of the server's clock.
  process_.spawn([](ZkServer* self) -> Task<void> {
    const int64_t tick =
        std::chrono::duration_cast<std::chrono::milliseconds>(self->spec_.tick_time).count();
    for (;;) {
      int64_t next = (self->now_ms() / tick + 1) * tick;
      co_await self->process_.timer_at(std::chrono::milliseconds(next));
      self->tick();
    }
  }(this));
  process_.spawn([](ZkServer* self) -> Task<void> {
    for (;;) {
      co_await self->process_.sleep_for(self->spec_.ttl_check_interval);
      self->ttl_pass();
    }
  }(this));
}

void ZkServer::accept(const ConnectionPtr& c) {
  // Forget the connections that are closed on both sides.
  std::erase_if(connections_,
                [](const ConnectionPtr& k) { return k->client_closed && k->server_closed; });
  connections_.push_back(c);
  // The connection owns these, so they hold it weakly: a strong reference would keep every
  // connection (and the session state its requests reach) alive after the run.
  std::weak_ptr<Connection> weak = c;
  c->server_receive = [this, weak](const RequestPtr& r) {
    if (auto conn = weak.lock()) on_request(conn, r);
  };
  c->server_eof = [this, weak] {
    if (auto conn = weak.lock()) on_eof(conn);
  };
}

void ZkServer::touch(SessionInfo& s) {
  // ZooKeeper rounds expiry up to the next tick so the tracker can expire in buckets.
  const int64_t tick =
      std::chrono::duration_cast<std::chrono::milliseconds>(spec_.tick_time).count();
  s.expires_at_ms = ((now_ms() + s.timeout_ms) / tick + 1) * tick;
}

void ZkServer::tick() {
  std::vector<int64_t> lapsed;
  int64_t now = now_ms();
  for (auto& [id, s] : sessions_)
    if (s.expires_at_ms <= now) lapsed.push_back(id);
  for (int64_t id : lapsed) kill(id, "expired");
}

void ZkServer::ttl_pass() {
  std::vector<WatchFire> fires;
  const auto reaped = tree_.expire_ttl_and_containers(wall_ms(), fires);
  if (world_.tracing())
    for (const auto& r : reaped)
      world_.trace("\"src\":\"" + name_ + "\",\"ev\":\"" +
                   (r.ttl ? "ttl_expired" : "container_reaped") +
                   "\",\"path\":" + json_quote(r.path));
  send_fires(fires);
}

void ZkServer::crash() {
  if (!up_) return;
  up_ = false;
  if (world_.tracing()) world_.trace("\"src\":\"" + name_ + "\",\"ev\":\"crash\"");
  process_.crash();
  for (auto& c : connections_) network_.sever(c);
  connections_.clear();
  conn_session_.clear();
}

void ZkServer::restart(bool persist) {
  if (up_) return;
  up_ = true;
  process_.restart();
  if (persist) {
    for (auto& [id, s] : sessions_) {
      s.conn = nullptr;
      tree_.drop_watches(id);
      touch(s);
    }
  } else {
    tree_ = DataTree();
    sessions_.clear();
  }
  if (world_.tracing())
    world_.trace("\"src\":\"" + name_ +
                 "\",\"ev\":\"restart\",\"persist\":" + (persist ? "true" : "false"));
  start();
}

void ZkServer::expire_session(int64_t session) {
  if (sessions_.count(session)) kill(session, "expired_on_demand");
}

void ZkServer::kill(int64_t session, const char* why) {
  auto it = sessions_.find(session);
  if (it == sessions_.end()) return;
  ConnectionPtr conn = it->second.conn;
  int client = it->second.client;
  sessions_.erase(it);
  std::vector<WatchFire> fires;
  // Ended by anyone but itself while its connection is open (expired from outside by a
  // second handle, or timed out while its process was paused): as on a live ZooKeeper,
  // whose FinalRequestProcessor applies the closeSession (the deletes fire every watch
  // still registered, the owner's too) before it closes the connection, the session's own
  // watches on what its end deletes fire on its connection first (findings L13).
  const bool tell_owner = conn && std::string_view(why) != "closed";
  tree_.kill_session(session, fires, tell_owner);
  if (world_.tracing())
    world_.trace("\"src\":\"" + name_ + "\",\"ev\":\"session_end\",\"why\":\"" + std::string(why) +
                 "\",\"session\":" + hex(session) + ",\"client\":" + std::to_string(client));
  send_fires(fires);
  if (tell_owner)
    for (const WatchFire& f : fires)
      if (f.session == session) notify(conn, f);
  if (conn) {
    conn_session_.erase(conn->id);
    network_.close_by_server(conn);
  }
}

void ZkServer::on_eof(const ConnectionPtr& c) {
  auto it = conn_session_.find(c->id);
  if (it == conn_session_.end()) return;
  int64_t session = it->second;
  conn_session_.erase(it);
  auto s = sessions_.find(session);
  if (s != sessions_.end() && s->second.conn == c) {
    s->second.conn = nullptr;
    // The server forgets a connection's watches; the client re-registers them.
    tree_.drop_watches(session);
  }
}

void ZkServer::on_request(const ConnectionPtr& c, const RequestPtr& r) {
  if (r->kind == RequestKind::Connect) {
    handle_connect(c, *r);
    return;
  }
  auto it = conn_session_.find(c->id);
  if (it == conn_session_.end()) return;  // not a session's connection (any more)
  auto s = sessions_.find(it->second);
  if (s == sessions_.end()) return;
  touch(s->second);
  if (r->kind == RequestKind::Ping) {
    auto pong = std::make_shared<Reply>();
    pong->kind = ReplyKind::Pong;
    pong->xid = r->xid;
    pong->zxid = tree_.last_zxid();
    send(c, pong);
    return;
  }
  handle_op(c, it->second, *r);
}

void ZkServer::handle_connect(const ConnectionPtr& c, const Request& r) {
  auto reply = std::make_shared<Reply>();
  reply->kind = ReplyKind::Connected;
  const int64_t tick =
      std::chrono::duration_cast<std::chrono::milliseconds>(spec_.tick_time).count();
  if (r.session_id == 0) {
    int64_t id = kSessionBase + (++next_session_);
    tree_.next_zxid();  // createSession is a transaction
    SessionInfo info;
    info.client = c->client;
    info.timeout_ms = std::clamp<int64_t>(r.timeout_ms, 2 * tick, 20 * tick);
    info.conn = c;
    touch(info);
    sessions_[id] = info;
    openers_[id] = c->client;
    conn_session_[c->id] = id;
    reply->session_id = id;
    reply->timeout_ms = info.timeout_ms;
    if (world_.tracing())
      world_.trace("\"src\":\"" + name_ + "\",\"ev\":\"session_new\",\"session\":" + hex(id) +
                   ",\"client\":" + std::to_string(c->client) +
                   ",\"timeout_ms\":" + std::to_string(info.timeout_ms));
  } else {
    auto s = sessions_.find(r.session_id);
    if (s == sessions_.end()) {
      // Expired: the client learns it now, on reconnecting.
      reply->session_id = r.session_id;
      reply->timeout_ms = 0;
      reply->zxid = tree_.last_zxid();
      send(c, reply);
      network_.close_by_server(c);
      return;
    }
    if (s->second.conn && s->second.conn != c) {
      conn_session_.erase(s->second.conn->id);
      tree_.drop_watches(r.session_id);
      network_.close_by_server(s->second.conn);
    }
    s->second.conn = c;
    conn_session_[c->id] = r.session_id;
    touch(s->second);
    reply->session_id = r.session_id;
    reply->timeout_ms = s->second.timeout_ms;
  }
  reply->zxid = tree_.last_zxid();
  send(c, reply);
}

void ZkServer::handle_op(const ConnectionPtr& c, int64_t session, const Request& r) {
  auto reply = std::make_shared<Reply>();
  reply->kind = ReplyKind::Response;
  reply->xid = r.xid;
  std::vector<WatchFire> fires;
  std::string extra;
  const int64_t now = wall_ms();  // node times
  switch (r.kind) {
    case RequestKind::Create: {
      CreateReply cr = tree_.create(session, r.path, r.data, r.mode, r.ttl_ms, now, fires);
      reply->err = cr.err;
      reply->path = cr.path;
      reply->stat = cr.stat;
      if (cr.err == Error::Ok && world_.tracing()) extra = ",\"created\":" + json_quote(cr.path);
      break;
    }
    case RequestKind::Remove:
      reply->err = tree_.remove(r.path, r.version, fires);
      break;
    case RequestKind::Set: {
      SetReply sr = tree_.set(r.path, r.data, r.version, now, fires);
      reply->err = sr.err;
      reply->stat = sr.stat;
      if (sr.err == Error::Ok && on_set_applied) on_set_applied(r.path, sr.stat.mzxid);
      break;
    }
    case RequestKind::Multi:
      reply->multi = tree_.multi(session, r.ops, now, fires);
      reply->err = reply->multi.err;
      break;
    case RequestKind::Get:
    case RequestKind::Exists:
    case RequestKind::Children: {
      ReadResult rr = r.kind == RequestKind::Get      ? tree_.get(session, r.path, r.watch)
                      : r.kind == RequestKind::Exists ? tree_.exists(session, r.path, r.watch)
                                                      : tree_.children(session, r.path, r.watch);
      reply->err = rr.err;
      reply->data = std::move(rr.data);
      if (r.kind == RequestKind::Children && rr.children) {
        reply->children = defer_shuffle(std::move(rr.children), listing_order_);
        world_.charge(reply->children.size());  // a listing's work counts against the budget
      }
      reply->stat = rr.stat;
      reply->watch_set = rr.watch_set;
      break;
    }
    case RequestKind::SetWatches:
      tree_.set_watches(session, r.last_zxid, r.data_watches, r.exist_watches, r.child_watches,
                        fires);
      break;
    case RequestKind::CloseSession: {
      ++stats_.requests;
      trace_request(session, r, Error::Ok, "");
      // The reply goes out before the close, on the same ordered stream.
      sessions_[session].conn = nullptr;
      conn_session_.erase(c->id);
      kill(session, "closed");
      reply->zxid = tree_.last_zxid();
      send(c, reply);
      network_.close_by_server(c);
      return;
    }
    case RequestKind::Connect:
    case RequestKind::Ping:
      return;
  }
  if (r.kind != RequestKind::SetWatches) ++stats_.requests;
  trace_request(session, r, reply->err, extra);
  send_fires(fires);
  reply->zxid = tree_.last_zxid();
  if (r.kind != RequestKind::SetWatches && lose_reply && lose_reply(c->client, store_, r.kind)) {
    if (world_.tracing())
      world_.trace("\"src\":\"" + name_ + "\",\"ev\":\"reply_lost\",\"session\":" + hex(session) +
                   ",\"op\":\"" + request_kind_name(r.kind) + "\"");
    network_.sever(c);
    return;
  }
  send(c, reply);
}

void ZkServer::send_fires(const std::vector<WatchFire>& fires) {
  for (const WatchFire& f : fires) {
    auto s = sessions_.find(f.session);
    if (s == sessions_.end() || !s->second.conn) continue;
    notify(s->second.conn, f);
  }
}

void ZkServer::notify(const ConnectionPtr& conn, const WatchFire& f) {
  auto n = std::make_shared<Reply>();
  n->kind = ReplyKind::Notification;
  n->xid = -1;
  n->event = f.type;
  n->path = f.path;
  n->zxid = tree_.last_zxid();
  ++stats_.notifications;
  if (world_.tracing())
    world_.trace("\"src\":\"" + name_ + "\",\"ev\":\"watch\",\"session\":" + hex(f.session) +
                 ",\"type\":\"" + std::string(watch_event_name(f.type)) +
                 "\",\"path\":" + json_quote(f.path));
  send(conn, n);
}

void ZkServer::send(const ConnectionPtr& c, std::shared_ptr<Reply> reply) {
  network_.to_client(c, std::move(reply));
}

void ZkServer::trace_request(int64_t session, const Request& r, Error err,
                             const std::string& extra) {
  if (!world_.tracing()) return;
  world_.trace("\"src\":\"" + name_ + "\",\"ev\":\"req\",\"session\":" + hex(session) +
               ",\"client\":" + std::to_string(session_client(session)) + ",\"op\":\"" +
               request_kind_name(r.kind) + "\",\"path\":" + json_quote(r.path) + ",\"err\":\"" +
               std::string(error_name(err)) + "\"" + extra);
}

}  // namespace lockstep::sim
