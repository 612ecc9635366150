#include "real/zk_store.h"

#include <poll.h>
#include <zookeeper/zookeeper.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "real/event_loop.h"

namespace lockstep::real {

// ---------------------------------------------------------------------------------------
// Shared state of one session.
//
// The handle is the single-threaded C client's (libzookeeper_st): the session's event loop
// drives it (ZkCore is an IoSource of that loop), so its completions and watchers run on
// the loop thread, inside zookeeper_process. They only build reply values and post them,
// so that a reply reaches its coroutine as ordinary work of the loop. A helper thread
// takes the handle over to close it (zookeeper_close blocks for the server's answer) and
// runs the second-handle expiry (expire_session), so the context registry is under `mu`.
// Everything else (state, promises) is touched only by work running on the loop, so it
// needs no lock, exactly as in the simulator.

struct WatchCtx;
struct RequestBase;
struct CloseJob;

struct ZkCore : IoSource, std::enable_shared_from_this<ZkCore> {
  EventLoop* loop = nullptr;
  Executor* ex = nullptr;
  std::string connect_string;
  int requested_timeout_ms = 0;
  // The ACL of every node this session creates (see zk_auth.h).
  const ACL_vector* acl = &ZOO_OPEN_ACL_UNSAFE;
  zhandle_t* zh = nullptr;  // the loop's until the close hands it to a helper thread

  // Contexts handed to the C client and not yet given back. Pending watchers are never
  // called after zookeeper_close, and a request's completion may not be either, so what
  // is left here after close is resolved and freed by us.
  mutable std::mutex mu;
  std::set<WatchCtx*> watches;
  std::set<RequestBase*> requests;

  // Closing: requests already sent get their answers, within close_bound(), before the
  // handle is closed (as the Java client's close does; the C client would fail them all).
  // While they are awaited, close_timer ends the wait at the bound.
  std::optional<uint64_t> close_timer;
  bool handed_over = false;  // the handle has left the loop for a closing thread
  // Closing and expiring threads, joined by the session's destructor.
  std::mutex threads_mu;
  std::vector<std::thread> threads;

  // Executor-side state.
  SessionState state = SessionState::Connecting;
  bool ever_connected = false;
  bool close_started = false;
  bool abandoned = false;  // given up by the client: Expired to it, whatever the closing does
  int64_t session_id = 0;
  std::string passwd;
  int timeout_ms = 0;
  Promise<SessionEvent> next_event;
  Promise<SessionState> ended;
  Promise<ConnectReply> connected;
  bool connect_resolved = false;
  // The session object until connect() resolves: the reply hands it out.
  std::shared_ptr<ZkSession> pending_session;
  Promise<Unit> closed;

  void post(Callback fn) { ex->post(std::move(fn)); }

  // IoSource: the loop waits on the handle's socket and calls zookeeper_process.
  Interest interest() override;
  void ready(short revents) override;
  // On the loop: waits for the replies still due (ready() and a timer end the wait), then
  // hands the handle over (finish_close).
  void begin_close();
  // On the loop: takes the handle off the loop and closes it on a thread of its own.
  // Abandoned: nothing is waited for and the server is not told.
  void finish_close(bool abandon = false);
  // The session's destructor, on any thread with the loop not driving this handle:
  // everything begin_close and finish_close do, here and now.
  void close_now();
  // Takes the handle off the loop, once: the job to close it, or nullopt if it was taken.
  std::optional<CloseJob> hand_over();
  // The session timeout as negotiated, or as asked before the first handshake.
  int timeout_in_force_ms() const { return ever_connected ? timeout_ms : requested_timeout_ms; }
  Duration close_bound() const {
    return std::chrono::milliseconds(std::max(timeout_in_force_ms(), 1000));
  }
  template <class F>
  void spawn(F&& fn) {
    std::lock_guard lock(threads_mu);
    threads.emplace_back(std::forward<F>(fn));
  }
  bool idle() const {
    std::lock_guard lock(mu);
    return requests.empty();
  }

  // Executor side.
  std::optional<Error> refuse() const {
    if (abandoned) return Error::SessionExpired;
    if (close_started || state == SessionState::Closed) return Error::Closing;
    if (state == SessionState::Expired) return Error::SessionExpired;
    return std::nullopt;
  }
  void emit(SessionEvent e) {
    Promise<SessionEvent> p = std::exchange(next_event, Promise<SessionEvent>{});
    p.set(e);
  }
  void resolve_connect(ConnectReply reply) {
    if (connect_resolved) return;
    connect_resolved = true;
    auto keep = std::move(pending_session);
    // Let go of the reply once given: it holds the session, which holds this core.
    Promise<ConnectReply> p = std::exchange(connected, Promise<ConnectReply>{});
    p.set(std::move(reply));
  }
  void on_connected(int64_t id, std::string pw, int negotiated_ms);
  void on_disconnected();
  void on_expired();
  void on_closed();

  // Either side, under mu.
  template <class R>
  R* track(R* r) {
    std::lock_guard lock(mu);
    requests.insert(r);
    return r;
  }
  // True if the request was still ours to complete (and is now the caller's to free).
  bool claim(RequestBase* r) {
    std::lock_guard lock(mu);
    return requests.erase(r) == 1;
  }
  WatchCtx* new_watch();
  void drop_watch(WatchCtx* w);
  // After zookeeper_close: fails what the client never completed, ends what it will
  // never notify, frees both, and tells the executor the session is closed. A session
  // given up (abandon) ended as Expired: what was pending fails with SessionExpired.
  void after_close(SessionState how = SessionState::Closed);
  size_t live_contexts() const {
    std::lock_guard lock(mu);
    return watches.size() + requests.size();
  }
};

struct WatchCtx {
  ZkCore* core;
  Promise<WatchEvent> promise;
  bool resolved = false;  // guarded by core->mu
};

struct RequestBase {
  ZkCore* core = nullptr;
  WatchCtx* watch = nullptr;
  virtual ~RequestBase() = default;
  // Completes the request with only an error (no server reply).
  virtual void fail(Error e) = 0;
};

namespace {

// The ACL of a secured run's nodes (see zk_auth.h): the session's own identities may do
// everything, anyone may read. Built on first use: the C client's constants are not
// constant expressions.
const ACL_vector* owner_writes_anyone_reads() {
  static ACL entries[] = {{ZOO_PERM_ALL, ZOO_AUTH_IDS}, {ZOO_PERM_READ, ZOO_ANYONE_ID_UNSAFE}};
  static const ACL_vector acl = {2, entries};
  return &acl;
}

Error from_zk(int rc) {
  // The numbers are ZooKeeper's own; codes the enum does not name pass through as is.
  return static_cast<Error>(rc);
}

// An error returned by the call itself (nothing was sent).
Error from_zk_call(int rc) {
  // The C client refuses every call on an expired handle with ZINVALIDSTATE; the Java
  // client (and so the simulator) says SessionExpired.
  if (rc == ZINVALIDSTATE) return Error::SessionExpired;
  return from_zk(rc);
}

lockstep::Stat from_zk(const ::Stat* s) {
  lockstep::Stat out;
  if (!s) return out;
  out.czxid = s->czxid;
  out.mzxid = s->mzxid;
  out.ctime = s->ctime;
  out.mtime = s->mtime;
  out.version = s->version;
  out.cversion = s->cversion;
  out.aversion = s->aversion;
  out.ephemeral_owner = s->ephemeralOwner;
  out.data_length = s->dataLength;
  out.num_children = s->numChildren;
  out.pzxid = s->pzxid;
  return out;
}

int to_ms(Duration d) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  if (ms < 1) ms = 1;
  if (ms > INT32_MAX) ms = INT32_MAX;
  return static_cast<int>(ms);
}

void set_err(CreateReply& r, Error e) { r.err = e; }
void set_err(GetReply& r, Error e) { r.err = e; }
void set_err(ExistsReply& r, Error e) { r.err = e; }
void set_err(ChildrenReply& r, Error e) { r.err = e; }
void set_err(SetReply& r, Error e) { r.err = e; }
void set_err(MultiReply& r, Error e) { r.err = e; }
void set_err(Error& r, Error e) { r = e; }

template <class R>
void post_value(ZkCore* core, Promise<R> p, R value) {
  // Guarded: a reply already given for a call refused synchronously must not be given
  // twice if the client completes it anyway.
  core->post([p, v = std::move(value)]() mutable {
    if (!p.is_set()) p.set(std::move(v));
  });
}

template <class R>
struct Request : RequestBase {
  Promise<R> promise;
  Future<WatchEvent> watch_future;
  void fail(Error e) override {
    R r{};
    set_err(r, e);
    post_value(core, promise, std::move(r));
  }
  void reply(R r) { post_value(core, promise, std::move(r)); }
};

// Claims the request a completion belongs to; nullptr if it was already failed.
template <class Req>
Req* claim(const void* data) {
  auto* req = static_cast<Req*>(const_cast<void*>(data));
  return req->core->claim(req) ? req : nullptr;
}

// Hands the request's watch to the reply if the client registered it, else frees it
// (an unregistered watcher is never called).
template <class Req>
Future<WatchEvent> settle_watch(Req* req, bool registered) {
  if (!req->watch) return {};
  if (registered) return req->watch_future;
  req->core->drop_watch(req->watch);
  return {};
}

void watch_fn(zhandle_t*, int type, int state, const char* path, void* ctx) {
  auto* w = static_cast<WatchCtx*>(ctx);
  ZkCore* core = w->core;
  if (type == ZOO_SESSION_EVENT) {
    // Every registered watcher hears every session event. Connecting / connected are
    // not the end of the watch: the client re-registers it on reconnection.
    if (state != ZOO_EXPIRED_SESSION_STATE && state != ZOO_AUTH_FAILED_STATE) return;
    std::lock_guard lock(core->mu);
    if (w->resolved) return;
    w->resolved = true;
    post_value(core, w->promise,
               WatchEvent{WatchEventType::SessionEnded, "", SessionState::Expired});
    // Kept until close: the client still holds the pointer.
    return;
  }
  if (type < ZOO_CREATED_EVENT || type > ZOO_CHILD_EVENT) return;  // e.g. NOTWATCHING
  bool resolved;
  {
    // A node event is delivered once, after the client dropped the watcher.
    std::lock_guard lock(core->mu);
    core->watches.erase(w);
    resolved = w->resolved;
  }
  if (!resolved)
    post_value(
        core, w->promise,
        WatchEvent{static_cast<WatchEventType>(type), path ? path : "", SessionState::Connected});
  delete w;
}

void session_watcher(zhandle_t* zh, int type, int state, const char*, void* ctx) {
  if (type != ZOO_SESSION_EVENT) return;  // node watches always have their own watcher
  auto* core = static_cast<ZkCore*>(ctx);
  auto self = core->shared_from_this();
  if (state == ZOO_CONNECTED_STATE || state == ZOO_READONLY_STATE) {
    // Read here: the id and timeout belong to this handshake.
    const clientid_t* cid = zoo_client_id(zh);
    int64_t id = cid ? cid->client_id : 0;
    std::string pw = cid ? std::string(cid->passwd, sizeof cid->passwd) : std::string();
    int negotiated = zoo_recv_timeout(zh);
    core->post([self, id, pw, negotiated] { self->on_connected(id, pw, negotiated); });
  } else if (state == ZOO_CONNECTING_STATE) {
    core->post([self] { self->on_disconnected(); });
  } else if (state == ZOO_EXPIRED_SESSION_STATE || state == ZOO_AUTH_FAILED_STATE) {
    core->post([self] { self->on_expired(); });
  }
}

// --- completions (inside zookeeper_process: on the loop, or on the closing thread) ---

using CreateReq = Request<CreateReply>;
using RemoveReq = Request<Error>;
using GetReq = Request<GetReply>;
using ExistsReq = Request<ExistsReply>;
using ChildrenReq = Request<ChildrenReply>;
using SetReq = Request<SetReply>;

struct MultiReq : Request<MultiReply> {
  std::vector<Op> ops;  // owns the strings the zoo_op_t point into
  std::vector<zoo_op_t> zops;
  std::vector<zoo_op_result_t> results;
  std::vector<::Stat> stats;
  std::vector<std::vector<char>> path_bufs;
};

// Marks a multi result the server never filled in (the whole request failed).
constexpr int kUnfilled = 1;

void on_create(int rc, const char* path, const ::Stat* stat, const void* data) {
  auto* req = claim<CreateReq>(data);
  if (!req) return;
  CreateReply r;
  r.err = from_zk(rc);
  if (rc == ZOK) {
    r.path = path ? path : "";
    r.stat = from_zk(stat);
  }
  req->reply(std::move(r));
  delete req;
}

void on_remove(int rc, const void* data) {
  auto* req = claim<RemoveReq>(data);
  if (!req) return;
  req->reply(from_zk(rc));
  delete req;
}

void on_get(int rc, const char* value, int len, const ::Stat* stat, const void* data) {
  auto* req = claim<GetReq>(data);
  if (!req) return;
  GetReply r;
  r.err = from_zk(rc);
  if (rc == ZOK) {
    if (value && len > 0) r.data.assign(value, static_cast<size_t>(len));
    r.stat = from_zk(stat);
  }
  r.watch = settle_watch(req, rc == ZOK);
  req->reply(std::move(r));
  delete req;
}

void on_exists(int rc, const ::Stat* stat, const void* data) {
  auto* req = claim<ExistsReq>(data);
  if (!req) return;
  ExistsReply r;
  r.err = from_zk(rc);
  if (rc == ZOK) r.stat = from_zk(stat);
  // A missing node is watched for its creation.
  r.watch = settle_watch(req, rc == ZOK || rc == ZNONODE);
  req->reply(std::move(r));
  delete req;
}

void on_children(int rc, const String_vector* names, const ::Stat* stat, const void* data) {
  auto* req = claim<ChildrenReq>(data);
  if (!req) return;
  ChildrenReply r;
  r.err = from_zk(rc);
  if (rc == ZOK) {
    if (names)
      for (int32_t i = 0; i < names->count; ++i) r.children.emplace_back(names->data[i]);
    r.stat = from_zk(stat);
  }
  r.watch = settle_watch(req, rc == ZOK);
  req->reply(std::move(r));
  delete req;
}

void on_set(int rc, const ::Stat* stat, const void* data) {
  auto* req = claim<SetReq>(data);
  if (!req) return;
  SetReply r;
  r.err = from_zk(rc);
  if (rc == ZOK) r.stat = from_zk(stat);
  req->reply(std::move(r));
  delete req;
}

void on_multi(int rc, const void* data) {
  auto* req = claim<MultiReq>(data);
  if (!req) return;
  MultiReply r;
  r.err = from_zk(rc);
  bool answered = true;
  for (auto& res : req->results)
    if (res.err == kUnfilled) answered = false;
  if (answered) {
    for (size_t i = 0; i < req->ops.size(); ++i) {
      OpResult o;
      o.err = from_zk(req->results[i].err);
      if (o.err == Error::Ok) {
        if (req->ops[i].type == OpType::Create) o.path = req->path_bufs[i].data();
        if (req->ops[i].type == OpType::Set) o.stat = from_zk(&req->stats[i]);
      }
      r.results.push_back(std::move(o));
    }
    // The client reports the first failing op's code; keep it if it forgot.
    if (r.err == Error::Ok)
      for (auto& o : r.results)
        if (o.err != Error::Ok) {
          r.err = o.err;
          break;
        }
  }
  req->reply(std::move(r));
  delete req;
}

}  // namespace

// --- ZkCore ---

WatchCtx* ZkCore::new_watch() {
  auto* w = new WatchCtx{this, {}, false};
  std::lock_guard lock(mu);
  watches.insert(w);
  return w;
}

void ZkCore::drop_watch(WatchCtx* w) {
  {
    std::lock_guard lock(mu);
    watches.erase(w);
  }
  delete w;
}

void ZkCore::on_connected(int64_t id, std::string pw, int negotiated_ms) {
  session_id = id;
  passwd = std::move(pw);
  timeout_ms = negotiated_ms;
  if (state == SessionState::Expired || state == SessionState::Closed) return;
  if (!ever_connected) {
    ever_connected = true;
    state = SessionState::Connected;
    emit(SessionEvent::Connected);
    if (pending_session) {
      std::shared_ptr<Session> s = pending_session;
      resolve_connect(ConnectReply{Error::Ok, std::move(s)});
    }
  } else if (state == SessionState::Suspended) {
    state = SessionState::Connected;
    emit(SessionEvent::Reconnected);
  }
}

void ZkCore::on_disconnected() {
  if (state != SessionState::Connected) return;
  state = SessionState::Suspended;
  emit(SessionEvent::Suspended);
}

void ZkCore::on_expired() {
  if (state == SessionState::Expired || state == SessionState::Closed) return;
  state = SessionState::Expired;
  emit(SessionEvent::Expired);
  if (!ended.is_set()) ended.set(SessionState::Expired);
  resolve_connect(ConnectReply{Error::SessionExpired, nullptr});
}

void ZkCore::on_closed() {
  if (state != SessionState::Expired && state != SessionState::Closed) {
    state = SessionState::Closed;
    emit(SessionEvent::Closed);
    if (!ended.is_set()) ended.set(SessionState::Closed);
  }
  resolve_connect(ConnectReply{Error::Closing, nullptr});
  if (!closed.is_set()) closed.set(Unit{});
}

void ZkCore::after_close(SessionState how) {
  const Error pending = how == SessionState::Expired ? Error::SessionExpired : Error::Closing;
  std::set<WatchCtx*> ws;
  std::set<RequestBase*> rs;
  {
    std::lock_guard lock(mu);
    ws.swap(watches);
    rs.swap(requests);
  }
  for (RequestBase* r : rs) {
    if (r->watch) {
      ws.erase(r->watch);
      delete r->watch;
    }
    r->fail(pending);
    delete r;
  }
  for (WatchCtx* w : ws) {
    if (!w->resolved)
      post_value(this, w->promise, WatchEvent{WatchEventType::SessionEnded, "", how});
    delete w;
  }
  auto self = shared_from_this();
  post([self] { self->on_closed(); });
}

// --- logging ---

void configure_zk_logging() {
  static std::once_flag once;
  std::call_once(once, [] {
    const char* env = std::getenv("LOCKSTEP_ZK_LOG");
    std::string_view v = env ? env : "error";
    if (v == "off" || v == "none" || v == "0") {
      // Level 0 turns the client's logging off altogether.
      zoo_set_debug_level(static_cast<ZooLogLevel>(0));
    } else if (v == "warn") {
      zoo_set_debug_level(ZOO_LOG_LEVEL_WARN);
    } else if (v == "info") {
      zoo_set_debug_level(ZOO_LOG_LEVEL_INFO);
    } else if (v == "debug") {
      zoo_set_debug_level(ZOO_LOG_LEVEL_DEBUG);
    } else {
      zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
    }
  });
}

// --- ZkStore ---

ZkStore::ZkStore(std::string connect_string, ZkOptions options)
    : connect_string_(std::move(connect_string)), options_(options) {
  configure_zk_logging();
}

std::string ZkStore::hosts() const {
  auto slash = connect_string_.find('/');
  return slash == std::string::npos ? connect_string_ : connect_string_.substr(0, slash);
}

std::string ZkStore::chroot() const {
  auto slash = connect_string_.find('/');
  if (slash == std::string::npos) return "";
  std::string c = connect_string_.substr(slash);
  return c == "/" ? "" : c;
}

std::string ZkStore::validate(const std::string& cs) {
  auto slash = cs.find('/');
  std::string hosts = slash == std::string::npos ? cs : cs.substr(0, slash);
  if (hosts.empty()) return "no host in '" + cs + "' (expected host:port[,host:port][/chroot])";
  size_t start = 0;
  while (start <= hosts.size()) {
    size_t end = hosts.find(',', start);
    if (end == std::string::npos) end = hosts.size();
    std::string h = hosts.substr(start, end - start);
    auto colon = h.rfind(':');
    if (h.empty() || colon == std::string::npos || colon == 0 || colon + 1 == h.size())
      return "bad host '" + h + "' (expected host:port)";
    for (size_t i = colon + 1; i < h.size(); ++i)
      if (h[i] < '0' || h[i] > '9') return "bad port in '" + h + "'";
    long port = std::strtol(h.c_str() + colon + 1, nullptr, 10);
    if (port < 1 || port > 65535) return "port out of range in '" + h + "'";
    start = end + 1;
  }
  if (slash != std::string::npos) {
    std::string chroot = cs.substr(slash);
    if (chroot != "/" && !valid_path(chroot)) return "bad chroot '" + chroot + "'";
  }
  return "";
}

Future<ConnectReply> ZkStore::connect(Env& env, Duration session_timeout) {
  if (!validate(connect_string_).empty())
    return Future<ConnectReply>::ready_with(ConnectReply{Error::BadArguments, nullptr});
  // The single-threaded client is driven by the loop of the process that opens it.
  auto* loop = dynamic_cast<EventLoop*>(&env.executor());
  if (!loop) return Future<ConnectReply>::ready_with(ConnectReply{Error::InvalidState, nullptr});
  auto core = std::make_shared<ZkCore>();
  core->loop = loop;
  core->ex = loop;
  core->connect_string = connect_string_;
  core->requested_timeout_ms = to_ms(session_timeout);
  auto session = std::shared_ptr<ZkSession>(new ZkSession(core));
  core->pending_session = session;
  Future<ConnectReply> reply = core->connected.future();

  zhandle_t* zh = zookeeper_init(connect_string_.c_str(), session_watcher,
                                 core->requested_timeout_ms, nullptr, core.get(), 0);
  if (!zh) {
    core->pending_session.reset();
    core->close_started = true;  // nothing to close: the destructor must not try
    return Future<ConnectReply>::ready_with(ConnectReply{Error::BadArguments, nullptr});
  }
  core->zh = zh;
  loop->add_source(core.get());
  session.reset();
  if (options_.auth) {
    // Queued now, sent after the handshake and again after every reconnect by the client.
    const std::string& cred = options_.auth->credentials;
    zoo_add_auth(zh, options_.auth->scheme.c_str(), cred.data(), static_cast<int>(cred.size()),
                 nullptr, nullptr);
    core->acl = owner_writes_anyone_reads();
  }

  Duration limit =
      options_.connect_timeout > Duration(0) ? options_.connect_timeout : session_timeout;
  if (limit < std::chrono::milliseconds(1)) limit = std::chrono::milliseconds(1);
  Future<Unit> timer = env.sleep_for(limit);
  // The timer's promise lives in the loop until it fires; the subscription rides on it.
  auto on_timeout = [core] {
    // Giving up drops the only reference to the session, which closes the handle.
    core->resolve_connect(ConnectReply{Error::ConnectionLoss, nullptr});
  };
  if (timer.ready())
    core->post(on_timeout);
  else
    timer.base()->subscribe(on_timeout);
  return reply;
}

Task<Error> ZkStore::ensure_chroot(Env& env, Duration connect_within) {
  std::string root = chroot();
  if (root.empty()) co_return Error::Ok;
  ZkStore admin(hosts(), options_);
  ConnectReply c = co_await admin.connect(env, connect_within);
  if (c.err != Error::Ok) co_return c.err;
  Error e = co_await ensure_path(*c.session, root);
  co_await c.session->close();
  co_return e;
}

// --- ZkSession ---

ZkSession::ZkSession(std::shared_ptr<ZkCore> core) : core_(std::move(core)) {}

// What closing needs to know, read on the loop before the handle is handed over.
struct CloseJob {
  std::shared_ptr<ZkCore> core;
  zhandle_t* zh = nullptr;
  std::string connect_string;
  ZkClientId who;  // empty id: no session to make sure of
  Duration bound;
  bool abandon = false;  // given up: the server not told
};

namespace {

CloseJob make_close_job(const std::shared_ptr<ZkCore>& core) {
  CloseJob job;
  job.core = core;
  job.zh = std::exchange(core->zh, nullptr);
  job.connect_string = core->connect_string;
  if (core->ever_connected && core->state != SessionState::Expired)
    job.who = ZkClientId{core->session_id, core->passwd};
  job.bound = core->close_bound();
  return job;
}

// Ends the session for good, with the handle no longer on the loop. Blocks: zookeeper_close
// waits (up to 1.5 s) for the server to answer the closeSession, and expire_session makes
// sure of the session with a second handle.
void close_handle(const CloseJob& job) {
  ZkCore& c = *job.core;
  if (job.abandon) {
    // A handle that is not connected sends no closeSession (zookeeper_close only frees
    // it): the session lives on the server until it expires there.
    if (job.zh) zookeeper_close(job.zh);
    c.after_close(SessionState::Expired);
    return;
  }
  if (job.zh) zookeeper_close(job.zh);
  // zookeeper_close does not always tell the server (a handle that is reconnecting sends
  // nothing), and the session (with its ephemerals) would live on until it times out.
  // Make sure it is gone.
  if (job.who.id != 0) expire_session(job.connect_string, job.who, job.bound);
  c.after_close();
}

// The C client's interest as poll() events, poll()'s answer as the C client's events, and
// the time it asks to be called back by.
short poll_events(int zk_interest) {
  return static_cast<short>(((zk_interest & ZOOKEEPER_READ) ? POLLIN : 0) |
                            ((zk_interest & ZOOKEEPER_WRITE) ? POLLOUT : 0));
}
int zk_events(short revents) {
  return ((revents & (POLLIN | POLLHUP | POLLERR)) ? ZOOKEEPER_READ : 0) |
         ((revents & POLLOUT) ? ZOOKEEPER_WRITE : 0);
}
EventLoop::Clock::duration as_duration(const timeval& tv) {
  return std::chrono::duration_cast<EventLoop::Clock::duration>(
      std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec));
}

// Drives `zh` on this thread until `done()` or `deadline`: the loop's work for one handle.
template <class Done>
void drive(zhandle_t* zh, EventLoop::Clock::time_point deadline, Done done) {
  while (!done()) {
    const auto now = EventLoop::Clock::now();
    if (now >= deadline) return;
    int fd = -1, interest = 0;
    timeval tv{};
    if (zookeeper_interest(zh, &fd, &interest, &tv) == ZINVALIDSTATE) return;
    const auto wait = std::min(as_duration(tv), deadline - now);
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(wait).count();
    timespec ts{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
    pollfd p{fd, poll_events(interest), 0};
    ppoll(&p, fd >= 0 ? 1 : 0, &ts, nullptr);
    zookeeper_process(zh, zk_events(p.revents));
  }
}

}  // namespace

IoSource::Interest ZkCore::interest() {
  Interest in;
  if (!zh) return in;
  int fd = -1, events = 0;
  timeval tv{};
  // ZINVALIDSTATE: expired or refused, for good; nothing to wait on. Other errors (a
  // connection being retried) still give the socket and the time to come back.
  if (zookeeper_interest(zh, &fd, &events, &tv) == ZINVALIDSTATE) return in;
  in.fd = fd;
  in.events = poll_events(events);
  in.by = EventLoop::Clock::now() + as_duration(tv);
  return in;
}

void ZkCore::ready(short revents) {
  if (!zh) return;
  zookeeper_process(zh, zk_events(revents));
  if (close_timer && idle()) finish_close();
}

void ZkCore::begin_close() {
  if (idle()) {
    finish_close();
    return;
  }
  auto self = shared_from_this();
  close_timer = loop->add_timer(EventLoop::Clock::now() + close_bound(), [self] {
    self->close_timer.reset();
    self->finish_close();
  });
}

std::optional<CloseJob> ZkCore::hand_over() {
  if (handed_over) return std::nullopt;
  handed_over = true;
  if (close_timer) loop->cancel_timer(*std::exchange(close_timer, std::nullopt));
  loop->remove_source(this);
  return make_close_job(shared_from_this());
}

void ZkCore::finish_close(bool abandon) {
  std::optional<CloseJob> job = hand_over();
  if (!job) return;
  job->abandon = abandon;
  spawn([job = std::move(*job)] { close_handle(job); });
}

void ZkCore::close_now() {
  if (std::optional<CloseJob> job = hand_over()) {
    if (job->zh) drive(job->zh, EventLoop::Clock::now() + job->bound, [this] { return idle(); });
    close_handle(*job);
  }
  std::vector<std::thread> ts;
  {
    std::lock_guard lock(threads_mu);
    ts.swap(threads);
  }
  for (auto& t : ts) t.join();
}

ZkSession::~ZkSession() {
  // Nobody closed it, or its close is still under way: close here, on this thread, and
  // let the loop hear the outcome if it runs again. The loop must not be driving the
  // handle meanwhile: destroy a session on its loop's thread, or once the loop stopped.
  core_->close_started = true;
  core_->close_now();
}

void ZkSession::start_close() {
  core_->close_started = true;
  core_->begin_close();
}

Future<Unit> ZkSession::close() {
  ZkCore& c = *core_;
  if (c.state == SessionState::Expired) {
    // Already ended: nothing changes for the application, but the handle must go.
    if (!c.close_started) start_close();
    return Future<Unit>::ready_with(Unit{});
  }
  if (!c.close_started) start_close();
  return c.closed.future();
}

SessionState ZkSession::state() const { return core_->state; }
int64_t ZkSession::id() const { return core_->session_id; }
Duration ZkSession::timeout() const {
  return std::chrono::milliseconds(core_->timeout_in_force_ms());
}
Error ZkSession::abandon() {
  ZkCore& c = *core_;
  if (auto e = c.refuse()) return *e;
  // zookeeper_close tells the server when the handle is connected; only one that is
  // reconnecting can be given up silently.
  if (c.state != SessionState::Suspended) return Error::InvalidState;
  c.on_expired();
  c.abandoned = true;
  c.close_started = true;
  c.finish_close(/*abandon=*/true);
  return Error::Ok;
}

Future<SessionEvent> ZkSession::next_event() { return core_->next_event.future(); }
Future<SessionState> ZkSession::ended() { return core_->ended.future(); }
ZkClientId ZkSession::client_id() const { return {core_->session_id, core_->passwd}; }
size_t ZkSession::live_contexts() const { return core_->live_contexts(); }

Future<Error> ZkSession::expire() {
  Promise<Error> p;
  auto fut = p.future();
  if (!core_->ever_connected) return Future<Error>::ready_with(Error::InvalidState);
  auto core = core_;
  ZkClientId who = client_id();
  std::string cs = core_->connect_string;
  core_->spawn([core, who, cs, p] {
    Error e = expire_session(cs, who);
    post_value(core.get(), p, e);
  });
  return fut;
}

Future<CreateReply> ZkSession::create(const std::string& path, const std::string& data,
                                      CreateMode mode, Duration ttl) {
  ZkCore& c = *core_;
  if (auto e = c.refuse()) return Future<CreateReply>::ready_with(CreateReply{*e, {}, {}});
  auto* req = c.track(new CreateReq);
  req->core = &c;
  auto fut = req->promise.future();
  int64_t ttl_ms = std::chrono::duration_cast<std::chrono::milliseconds>(ttl).count();
  int rc;
  if (is_ttl(mode) || ttl_ms != 0) {
    // The client itself refuses a TTL without a TTL mode and a TTL mode without one.
    rc = zoo_acreate2_ttl(c.zh, path.c_str(), data.data(), static_cast<int>(data.size()), c.acl,
                          static_cast<int>(mode), ttl_ms, on_create, req);
  } else {
    rc = zoo_acreate2(c.zh, path.c_str(), data.data(), static_cast<int>(data.size()), c.acl,
                      static_cast<int>(mode), on_create, req);
  }
  if (rc != ZOK && c.claim(req)) {
    delete req;
    return Future<CreateReply>::ready_with(CreateReply{from_zk_call(rc), {}, {}});
  }
  return fut;
}

Future<Error> ZkSession::remove(const std::string& path, int32_t version) {
  ZkCore& c = *core_;
  if (auto e = c.refuse()) return Future<Error>::ready_with(*e);
  auto* req = c.track(new RemoveReq);
  req->core = &c;
  auto fut = req->promise.future();
  int rc = zoo_adelete(c.zh, path.c_str(), version, on_remove, req);
  if (rc != ZOK && c.claim(req)) {
    delete req;
    return Future<Error>::ready_with(from_zk_call(rc));
  }
  return fut;
}

namespace {
// Gives a request a watcher context when the caller asked for a watch.
template <class Req>
watcher_fn arm_watch(ZkCore& c, Req* req, bool watch) {
  if (!watch) return nullptr;
  req->watch = c.new_watch();
  req->watch_future = req->watch->promise.future();
  return watch_fn;
}
// Undoes a request whose call was refused before anything was sent.
template <class Req>
void discard(ZkCore& c, Req* req) {
  if (req->watch) c.drop_watch(req->watch);
  delete req;
}
}  // namespace

Future<GetReply> ZkSession::get(const std::string& path, bool watch) {
  ZkCore& c = *core_;
  if (auto e = c.refuse()) return Future<GetReply>::ready_with(GetReply{*e, {}, {}, {}});
  auto* req = c.track(new GetReq);
  req->core = &c;
  auto fut = req->promise.future();
  watcher_fn w = arm_watch(c, req, watch);
  int rc = zoo_awget(c.zh, path.c_str(), w, w ? req->watch : nullptr, on_get, req);
  if (rc != ZOK && c.claim(req)) {
    discard(c, req);
    return Future<GetReply>::ready_with(GetReply{from_zk_call(rc), {}, {}, {}});
  }
  return fut;
}

Future<ExistsReply> ZkSession::exists(const std::string& path, bool watch) {
  ZkCore& c = *core_;
  if (auto e = c.refuse()) return Future<ExistsReply>::ready_with(ExistsReply{*e, {}, {}});
  auto* req = c.track(new ExistsReq);
  req->core = &c;
  auto fut = req->promise.future();
  watcher_fn w = arm_watch(c, req, watch);
  int rc = zoo_awexists(c.zh, path.c_str(), w, w ? req->watch : nullptr, on_exists, req);
  if (rc != ZOK && c.claim(req)) {
    discard(c, req);
    return Future<ExistsReply>::ready_with(ExistsReply{from_zk_call(rc), {}, {}});
  }
  return fut;
}

Future<ChildrenReply> ZkSession::children(const std::string& path, bool watch) {
  ZkCore& c = *core_;
  if (auto e = c.refuse()) return Future<ChildrenReply>::ready_with(ChildrenReply{*e, {}, {}, {}});
  auto* req = c.track(new ChildrenReq);
  req->core = &c;
  auto fut = req->promise.future();
  watcher_fn w = arm_watch(c, req, watch);
  int rc = zoo_awget_children2(c.zh, path.c_str(), w, w ? req->watch : nullptr, on_children, req);
  if (rc != ZOK && c.claim(req)) {
    discard(c, req);
    return Future<ChildrenReply>::ready_with(ChildrenReply{from_zk_call(rc), {}, {}, {}});
  }
  return fut;
}

Future<SetReply> ZkSession::set(const std::string& path, const std::string& data, int32_t version) {
  ZkCore& c = *core_;
  if (auto e = c.refuse()) return Future<SetReply>::ready_with(SetReply{*e, {}});
  auto* req = c.track(new SetReq);
  req->core = &c;
  auto fut = req->promise.future();
  int rc = zoo_aset(c.zh, path.c_str(), data.data(), static_cast<int>(data.size()), version, on_set,
                    req);
  if (rc != ZOK && c.claim(req)) {
    delete req;
    return Future<SetReply>::ready_with(SetReply{from_zk_call(rc), {}});
  }
  return fut;
}

Future<MultiReply> ZkSession::multi(const std::vector<Op>& ops) {
  ZkCore& c = *core_;
  if (auto e = c.refuse()) return Future<MultiReply>::ready_with(MultiReply{*e, {}});
  // Refused here, before the C client sees them, with no per-op results, as the simulator
  // does: a create it cannot carry in a multi (for a TTL it answers Unimplemented and leaks
  // its buffers; for a container it aborts the process decoding the reply), then an
  // invalid path (zoo_amulti crashes on one that is not the last op).
  if (std::any_of(ops.begin(), ops.end(), multi_create_unsupported))
    return Future<MultiReply>::ready_with(MultiReply{Error::Unimplemented, {}});
  for (const Op& op : ops) {
    const bool sequential = op.type == OpType::Create && is_sequential(op.mode);
    if (!c_client_path_valid(op.path, sequential))
      return Future<MultiReply>::ready_with(MultiReply{Error::MarshallingError, {}});
  }
  auto* req = new MultiReq;
  req->core = &c;
  req->ops = ops;
  size_t n = ops.size();
  req->zops.resize(n);
  req->results.resize(n);
  req->stats.resize(n);
  req->path_bufs.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const Op& op = req->ops[i];
    req->results[i].err = kUnfilled;
    switch (op.type) {
      case OpType::Create:
        // Room for the path plus a 10-digit sequence suffix.
        req->path_bufs[i].assign(op.path.size() + 16, '\0');
        zoo_create_op_init(&req->zops[i], op.path.c_str(), op.data.data(),
                           static_cast<int>(op.data.size()), c.acl, static_cast<int>(op.mode),
                           req->path_bufs[i].data(), static_cast<int>(req->path_bufs[i].size()));
        break;
      case OpType::Remove:
        zoo_delete_op_init(&req->zops[i], op.path.c_str(), op.version);
        break;
      case OpType::Set:
        zoo_set_op_init(&req->zops[i], op.path.c_str(), op.data.data(),
                        static_cast<int>(op.data.size()), op.version, &req->stats[i]);
        break;
      case OpType::Check:
        zoo_check_op_init(&req->zops[i], op.path.c_str(), op.version);
        break;
    }
  }
  c.track(req);
  auto fut = req->promise.future();
  int rc = zoo_amulti(c.zh, static_cast<int>(n), n ? req->zops.data() : nullptr,
                      n ? req->results.data() : nullptr, on_multi, req);
  if (rc != ZOK && c.claim(req)) {
    delete req;
    return Future<MultiReply>::ready_with(MultiReply{from_zk_call(rc), {}});
  }
  return fut;
}

// --- forced expiry ---

namespace {
struct ExpireWait {
  bool connected = false;
  bool expired = false;
};

// Called inside zookeeper_process, on the thread that drives the handle.
void expire_watcher(zhandle_t*, int type, int state, const char*, void* ctx) {
  if (type != ZOO_SESSION_EVENT) return;
  auto* w = static_cast<ExpireWait*>(ctx);
  if (state == ZOO_CONNECTED_STATE) w->connected = true;
  if (state == ZOO_EXPIRED_SESSION_STATE) w->expired = true;
}
}  // namespace

namespace {

enum class Attach { Connected, Expired, TimedOut, Refused };

// Attaches a second handle to the session `who` and closes it, which closes the session
// on the server (unless its owner steals the connection back first: see expire_session).
// Drives the handle on the calling thread.
Attach attach_and_close(const std::string& connect_string, const clientid_t& cid,
                        EventLoop::Clock::time_point deadline, int timeout_ms) {
  ExpireWait w;
  zhandle_t* zh = zookeeper_init(connect_string.c_str(), expire_watcher, timeout_ms, &cid, &w, 0);
  if (!zh) return Attach::Refused;
  drive(zh, deadline, [&] { return w.connected || w.expired; });
  const Attach result = w.connected ? Attach::Connected
                        : w.expired ? Attach::Expired
                                    : Attach::TimedOut;
  zookeeper_close(zh);
  return result;
}

}  // namespace

Error expire_session(const std::string& connect_string, const ZkClientId& who, Duration timeout) {
  configure_zk_logging();
  if (who.id == 0 || who.passwd.size() != sizeof(clientid_t{}.passwd)) return Error::BadArguments;
  clientid_t cid;
  cid.client_id = who.id;
  std::memcpy(cid.passwd, who.passwd.data(), sizeof cid.passwd);
  auto deadline =
      EventLoop::Clock::now() + std::chrono::duration_cast<EventLoop::Clock::duration>(timeout);
  // Attaching steals the session's connection from its owner, who reconnects at once and
  // may steal it back before our close is through. So repeat until the server itself
  // says the session is gone: only that answer is proof.
  bool closed_by_us = false;
  for (;;) {
    Attach a = attach_and_close(connect_string, cid, deadline, to_ms(timeout));
    if (a == Attach::Refused) return Error::BadArguments;
    if (a == Attach::TimedOut) return Error::OperationTimeout;
    if (a == Attach::Expired) return closed_by_us ? Error::Ok : Error::SessionExpired;
    closed_by_us = true;
  }
}

// --- helpers ---

Task<Error> ensure_path(Session& session, std::string path) {
  if (path == "/") co_return Error::Ok;
  if (!valid_path(path)) co_return Error::BadArguments;
  CreateReply r = co_await session.create(path, "", CreateMode::Persistent);
  if (r.err == Error::Ok || r.err == Error::NodeExists) co_return Error::Ok;
  if (r.err != Error::NoNode) co_return r.err;
  Error parent = co_await ensure_path(session, parent_path(path));
  if (parent != Error::Ok) co_return parent;
  r = co_await session.create(path, "", CreateMode::Persistent);
  co_return r.err == Error::NodeExists ? Error::Ok : r.err;
}

Task<Error> remove_recursive(Session& session, std::string path) {
  if (!valid_path(path) || path == "/") co_return Error::BadArguments;
  for (int attempt = 0; attempt < 100; ++attempt) {
    ChildrenReply kids = co_await session.children(path);
    if (kids.err == Error::NoNode) co_return Error::Ok;
    if (kids.err != Error::Ok) co_return kids.err;
    for (const auto& name : kids.children) {
      Error e = co_await remove_recursive(session, join_path(path, name));
      if (e != Error::Ok) co_return e;
    }
    Error e = co_await session.remove(path);
    if (e == Error::Ok || e == Error::NoNode) co_return Error::Ok;
    if (e != Error::NotEmpty) co_return e;
    // A child appeared meanwhile: go round again.
  }
  co_return Error::NotEmpty;
}

}  // namespace lockstep::real
