#include "real/local_store.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/prng.h"
#include "core/zk/data_tree.h"
#include "core/zk/listing_order.h"
#include "real/event_loop.h"
#include "real/live_env.h"

namespace lockstep::real {

namespace {

using namespace std::chrono_literals;

int64_t steady_ns() { return steady_now().count(); }

// The "server clock" of ctime, mtime and TTLs: the wall clock, as a server's.
int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

using WatchTable = std::map<std::string, std::vector<Promise<WatchEvent>>>;

// One session. Executor-side fields are touched only by work on `ex`.
struct LocalCore {
  Executor* ex = nullptr;
  int64_t id = 0;
  Duration timeout{0};
  std::atomic<int64_t> last_heard{0};  // steady ns of the last ping or request

  // Executor side.
  SessionState state = SessionState::Connected;
  bool closed_by_client = false;  // after close(), every call gets Closing (store.h)
  // Given up by the client (abandon): no more pings, and the session object going does
  // not end it on the "server"; the reaper expires it after its timeout.
  std::atomic<bool> abandoned{false};
  std::vector<Promise<SessionEvent>> event_waiters;
  Promise<SessionState> ended;
  WatchTable data_watches, exist_watches, child_watches;

  Future<WatchEvent> add_watch(WatchTable& table, const std::string& path) {
    auto& v = table[path];
    v.emplace_back();
    return v.back().future();
  }
  void emit(SessionEvent e) {
    auto waiters = std::move(event_waiters);
    event_waiters.clear();
    for (auto& w : waiters) w.set(e);
  }
  // As the C client's collectWatchers: which tables an event empties.
  void on_fire(WatchEventType type, const std::string& path) {
    if (state == SessionState::Expired || state == SessionState::Closed) return;
    std::vector<Promise<WatchEvent>> fire;
    auto take = [&](WatchTable& table) {
      auto it = table.find(path);
      if (it == table.end()) return;
      for (auto& p : it->second) fire.push_back(p);
      table.erase(it);
    };
    switch (type) {
      case WatchEventType::Created:
      case WatchEventType::DataChanged:
        take(data_watches);
        take(exist_watches);
        break;
      case WatchEventType::Deleted:
        take(data_watches);
        take(exist_watches);
        take(child_watches);
        break;
      case WatchEventType::ChildrenChanged:
        take(child_watches);
        break;
      case WatchEventType::SessionEnded:
        break;
    }
    for (auto& p : fire) p.set(WatchEvent{type, path, state});
  }
  void on_end(SessionState how) {
    if (state == SessionState::Expired || state == SessionState::Closed) return;
    state = how;
    std::vector<Promise<WatchEvent>> fire;
    for (auto* table : {&data_watches, &exist_watches, &child_watches}) {
      for (auto& [path, v] : *table)
        for (auto& p : v) fire.push_back(p);
      table->clear();
    }
    for (auto& p : fire) p.set(WatchEvent{WatchEventType::SessionEnded, "", how});
    emit(how == SessionState::Expired ? SessionEvent::Expired : SessionEvent::Closed);
    if (!ended.is_set()) ended.set(how);
  }
};

}  // namespace

struct LocalStore::Impl {
  mutable std::mutex mu;
  DataTree tree;
  // Listings come back in no particular order, as from a server (core/zk/listing_order.h);
  // a live run is not replayable anyway, so the stream starts where the clock says.
  Prng listing_order{
      static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count())};
  std::map<int64_t, std::shared_ptr<LocalCore>> sessions;  // alive on the "server"
  int64_t next_id = 0x10000000001;
  std::condition_variable cv;
  bool stop = false;
  std::thread reaper;

  // Under mu: the sessions in the map have live executors (a session leaves the map,
  // under mu, before its client's loop can go).
  void dispatch_locked(const std::vector<WatchFire>& fired) {
    for (const auto& f : fired) {
      auto it = sessions.find(f.session);
      if (it == sessions.end()) continue;
      auto core = it->second;
      core->ex->post([core, type = f.type, path = f.path] { core->on_fire(type, path); });
    }
  }
  void kill_locked(int64_t id, SessionState how) {
    auto it = sessions.find(id);
    if (it == sessions.end()) return;
    auto core = it->second;
    sessions.erase(it);
    std::vector<WatchFire> fired;
    tree.kill_session(id, fired);
    dispatch_locked(fired);
    core->ex->post([core, how] { core->on_end(how); });
  }
  void reap_loop() {
    std::unique_lock lock(mu);
    int64_t next_ttl_pass = 0;
    while (!stop) {
      cv.wait_for(lock, 20ms);
      if (stop) break;
      const int64_t now = steady_ns();
      std::vector<int64_t> expired;
      for (auto& [id, core] : sessions)
        if (now - core->last_heard.load() > core->timeout.count()) expired.push_back(id);
      for (int64_t id : expired) kill_locked(id, SessionState::Expired);
      if (now >= next_ttl_pass) {
        std::vector<WatchFire> fired;
        tree.expire_ttl_and_containers(wall_ms(), fired);
        dispatch_locked(fired);
        next_ttl_pass = now + 500'000'000;
      }
    }
  }
};

namespace {

class LocalSession final : public Session {
 public:
  LocalSession(std::shared_ptr<LocalStore::Impl> store, std::shared_ptr<LocalCore> core)
      : store_(std::move(store)), core_(std::move(core)) {}
  ~LocalSession() override {
    std::lock_guard lock(store_->mu);
    if (core_->abandoned || !store_->sessions.count(core_->id)) return;
    store_->sessions.erase(core_->id);
    std::vector<WatchFire> fired;
    store_->tree.kill_session(core_->id, fired);
    store_->dispatch_locked(fired);
  }

  Future<CreateReply> create(const std::string& path, const std::string& data, CreateMode mode,
                             Duration ttl) override {
    const int64_t ttl_ms = std::chrono::duration_cast<std::chrono::milliseconds>(ttl).count();
    return call<CreateReply>([&](std::vector<WatchFire>& fired) {
      return store_->tree.create(core_->id, path, data, mode, ttl_ms, wall_ms(), fired);
    });
  }
  Future<Error> remove(const std::string& path, int32_t version) override {
    return call<Error>(
        [&](std::vector<WatchFire>& fired) { return store_->tree.remove(path, version, fired); });
  }
  Future<GetReply> get(const std::string& path, bool watch) override {
    return call<GetReply>([&](std::vector<WatchFire>&) {
      ReadResult r = store_->tree.get(core_->id, path, watch);
      GetReply out;
      out.err = r.err;
      out.data = std::move(r.data);
      out.stat = r.stat;
      if (r.watch_set) out.watch = core_->add_watch(core_->data_watches, path);
      return out;
    });
  }
  Future<ExistsReply> exists(const std::string& path, bool watch) override {
    return call<ExistsReply>([&](std::vector<WatchFire>&) {
      ReadResult r = store_->tree.exists(core_->id, path, watch);
      ExistsReply out;
      out.err = r.err;
      out.stat = r.stat;
      if (r.watch_set) out.watch = core_->add_watch(core_->exist_watches, path);
      return out;
    });
  }
  Future<ChildrenReply> children(const std::string& path, bool watch) override {
    // Under store_->mu only the draws and a shared snapshot; the reader's loop makes the
    // names, so a listing waiting in a loop's queue is not N strings.
    struct Deferred {
      ChildrenReply reply;
      DeferredListing names;
    };
    return call<ChildrenReply>(
        [&](std::vector<WatchFire>&) {
          ReadResult r = store_->tree.children(core_->id, path, watch);
          Deferred out;
          out.reply.err = r.err;
          if (r.children) out.names = defer_shuffle(std::move(r.children), store_->listing_order);
          out.reply.stat = r.stat;
          if (r.watch_set) out.reply.watch = core_->add_watch(core_->child_watches, path);
          return out;
        },
        [](Deferred d) {
          d.reply.children = d.names.make();
          return std::move(d.reply);
        });
  }
  Future<SetReply> set(const std::string& path, const std::string& data, int32_t version) override {
    return call<SetReply>([&](std::vector<WatchFire>& fired) {
      return store_->tree.set(path, data, version, wall_ms(), fired);
    });
  }
  Future<MultiReply> multi(const std::vector<Op>& ops) override {
    return call<MultiReply>([&](std::vector<WatchFire>& fired) {
      return store_->tree.multi(core_->id, ops, wall_ms(), fired);
    });
  }
  Future<Unit> close() override {
    core_->closed_by_client = true;
    if (finished()) return Future<Unit>::ready_with(Unit{});
    Promise<Unit> done;
    {
      std::lock_guard lock(store_->mu);
      auto it = store_->sessions.find(core_->id);
      if (it != store_->sessions.end()) {
        store_->sessions.erase(it);
        std::vector<WatchFire> fired;
        store_->tree.kill_session(core_->id, fired);
        store_->dispatch_locked(fired);
      }
    }
    // Already expired on the "server": the client hears Expired from that, first.
    core_->ex->post([core = core_, done]() mutable {
      core->on_end(SessionState::Closed);
      done.set(Unit{});
    });
    return done.future();
  }

  Error abandon() override {
    if (core_->state == SessionState::Closed || core_->closed_by_client) return Error::Closing;
    if (core_->state == SessionState::Expired) return Error::SessionExpired;
    core_->abandoned = true;
    core_->on_end(SessionState::Expired);
    return Error::Ok;
  }

  SessionState state() const override { return core_->state; }
  int64_t id() const override { return core_->id; }
  Duration timeout() const override { return core_->timeout; }
  Future<SessionEvent> next_event() override {
    core_->event_waiters.emplace_back();
    return core_->event_waiters.back().future();
  }
  Future<SessionState> ended() override { return core_->ended.future(); }

 private:
  bool finished() const {
    return core_->state == SessionState::Expired || core_->state == SessionState::Closed;
  }
  // Runs one request against the tree (under the store's lock), posts the watch
  // notifications it caused and then its reply, which `finish` turns into R on the
  // session's loop (outside the lock).
  struct AsIs {
    template <class T>
    T operator()(T t) const {
      return t;
    }
  };
  template <class R, class Fn, class Finish = AsIs>
  Future<R> call(Fn&& fn, Finish finish = {}) {
    auto refuse = [](Error e) {
      R r{};
      if constexpr (std::is_same_v<R, Error>)
        r = e;
      else
        r.err = e;
      return Future<R>::ready_with(std::move(r));
    };
    if (core_->state == SessionState::Closed || core_->closed_by_client)
      return refuse(Error::Closing);
    if (core_->state == SessionState::Expired) return refuse(Error::SessionExpired);
    Promise<R> p;
    std::lock_guard lock(store_->mu);
    if (!store_->sessions.count(core_->id)) {
      // Expired on the "server"; the notice is on its way to this loop.
      R r{};
      if constexpr (std::is_same_v<R, Error>)
        r = Error::SessionExpired;
      else
        r.err = Error::SessionExpired;
      core_->ex->post([p, r = std::move(r)]() mutable { p.set(std::move(r)); });
      return p.future();
    }
    core_->last_heard = steady_ns();
    std::vector<WatchFire> fired;
    auto r = fn(fired);
    store_->dispatch_locked(fired);
    core_->ex->post([p, r = std::move(r), finish]() mutable { p.set(R(finish(std::move(r)))); });
    return p.future();
  }

  std::shared_ptr<LocalStore::Impl> store_;
  std::shared_ptr<LocalCore> core_;
};

Task<void> pinger(Env& env, std::weak_ptr<LocalCore> weak, Duration every) {
  for (;;) {
    co_await env.sleep_for(every);
    auto core = weak.lock();
    if (!core || core->state == SessionState::Expired || core->state == SessionState::Closed)
      co_return;
    core->last_heard = steady_ns();
  }
}

}  // namespace

LocalStore::LocalStore() : impl_(std::make_shared<Impl>()) {
  impl_->reaper = std::thread([impl = impl_.get()] { impl->reap_loop(); });
}

LocalStore::~LocalStore() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stop = true;
  }
  impl_->cv.notify_all();
  impl_->reaper.join();
}

Future<ConnectReply> LocalStore::connect(Env& env, Duration session_timeout) {
  auto core = std::make_shared<LocalCore>();
  core->ex = &env.executor();
  core->timeout = session_timeout > Duration(0) ? session_timeout : Duration(1ms);
  core->last_heard = steady_ns();
  {
    std::lock_guard lock(impl_->mu);
    core->id = impl_->next_id++;
    impl_->tree.next_zxid();  // a session's creation is a transaction
    impl_->sessions[core->id] = core;
  }
  auto session = std::make_shared<LocalSession>(impl_, core);
  env.spawn(pinger(env, core, std::max(Duration(1ms), core->timeout / 3)));
  Promise<ConnectReply> p;
  core->ex->post([p, session]() mutable { p.set(ConnectReply{Error::Ok, std::move(session)}); });
  return p.future();
}

Error LocalStore::expire(int64_t session) {
  std::lock_guard lock(impl_->mu);
  if (!impl_->sessions.count(session)) return Error::SessionExpired;
  impl_->kill_locked(session, SessionState::Expired);
  return Error::Ok;
}

void LocalStore::detach(Executor* ex) {
  std::lock_guard lock(impl_->mu);
  std::vector<int64_t> ids;
  for (auto& [id, core] : impl_->sessions)
    if (core->ex == ex) ids.push_back(id);
  for (int64_t id : ids) {
    impl_->sessions.erase(id);
    std::vector<WatchFire> fired;
    impl_->tree.kill_session(id, fired);
    impl_->dispatch_locked(fired);
  }
}

// --- LocalBackend ---------------------------------------------------------------------------

struct LocalBackend::Queue {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<ClientMessage> messages;
  void push(ClientMessage m) {
    {
      std::lock_guard lock(mu);
      messages.push_back(std::move(m));
    }
    cv.notify_all();
  }
};

struct LocalBackend::Client {
  int index = 0;
  std::unique_ptr<EventLoop> loop;
  std::thread thread;
  std::atomic<bool> done{false};
  std::atomic<bool> killed{false};
  // The pause: a unit of work on the client's loop that waits here.
  std::mutex pause_mu;
  std::condition_variable pause_cv;
  bool paused = false;
};

LocalBackend::LocalBackend() : queue_(std::make_shared<Queue>()) {}

LocalBackend::~LocalBackend() { kill_all(); }

void LocalBackend::start(const LiveClientSpec& spec) {
  if (spec.index >= static_cast<int>(clients_.size()))
    clients_.resize(static_cast<size_t>(spec.index) + 1);
  auto& slot = clients_[static_cast<size_t>(spec.index)];
  if (slot) {
    if (!slot->done) throw std::logic_error("client already running");
    slot->thread.join();
  }
  slot = std::make_unique<Client>();
  slot->index = spec.index;
  slot->loop = std::make_unique<EventLoop>();
  Client* c = slot.get();
  // A bad algorithm or option leaves one store: run_live_client then reports it.
  int stores = 1;
  try {
    const AlgorithmInfo& algo = resolve_algorithm(spec.algorithm);
    stores = algo.store_count(algo.validate(Options(spec.options)));
  } catch (const UnknownAlgorithm&) {
  } catch (const OptionError&) {
  }
  c->thread = std::thread([this, c, spec, stores] {
    MessageSink sink = [this, c](const ClientMessage& m) {
      if (!c->killed) queue_->push(m);
    };
    std::vector<Store*> all(static_cast<size_t>(stores), &store_);
    std::string failure = run_live_client(*c->loop, spec, all, &store_, sink, &registry_);
    // Sessions the workload did not close (it was stopped) end here, before the loop
    // they report to can go.
    store_.detach(c->loop.get());
    if (!failure.empty()) {
      ClientMessage m;
      m.kind = ClientMessage::Kind::Error;
      m.client = c->index;
      m.text = failure;
      sink(m);
    }
    ClientMessage m;
    m.kind = ClientMessage::Kind::Exited;
    m.client = c->index;
    m.clean = failure.empty();
    m.text = failure.empty() ? "finished" : failure;
    sink(m);
    c->done = true;
  });
}

std::vector<ClientMessage> LocalBackend::poll(Duration wait) {
  std::unique_lock lock(queue_->mu);
  if (queue_->messages.empty())
    queue_->cv.wait_for(lock, wait, [this] { return !queue_->messages.empty(); });
  std::vector<ClientMessage> out(std::make_move_iterator(queue_->messages.begin()),
                                 std::make_move_iterator(queue_->messages.end()));
  queue_->messages.clear();
  return out;
}

bool LocalBackend::running(int client) const {
  if (client < 0 || client >= static_cast<int>(clients_.size())) return false;
  const auto& c = clients_[static_cast<size_t>(client)];
  return c && !c->done;
}

bool LocalBackend::suspend(int client) {
  if (!running(client)) return false;
  Client* c = clients_[static_cast<size_t>(client)].get();
  {
    std::lock_guard lock(c->pause_mu);
    if (c->paused) return true;
    c->paused = true;
  }
  c->loop->post([c] {
    std::unique_lock lock(c->pause_mu);
    c->pause_cv.wait(lock, [c] { return !c->paused; });
  });
  return true;
}

bool LocalBackend::resume(int client) {
  if (client < 0 || client >= static_cast<int>(clients_.size()) || !clients_[client]) return false;
  Client* c = clients_[static_cast<size_t>(client)].get();
  {
    std::lock_guard lock(c->pause_mu);
    c->paused = false;
  }
  c->pause_cv.notify_all();
  return true;
}

std::string LocalBackend::crash(int) {
  return "no live form on local: (a thread cannot be killed)";
}

Error LocalBackend::expire(const SessionRef& session) { return store_.expire(session.id); }

void LocalBackend::kill_all() {
  for (auto& c : clients_) {
    if (!c) continue;
    if (!c->done) {
      c->killed = true;
      resume(c->index);
      c->loop->stop();
    }
    if (c->thread.joinable()) c->thread.join();
  }
}

}  // namespace lockstep::real
