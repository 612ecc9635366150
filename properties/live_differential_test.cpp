// The differential fidelity test: RapidCheck generates sequences of store operations for
// one or two sessions and runs each, op by op, on the simulated ZooKeeper and on a live
// one (LOCKSTEP_ZK; skipped without it). Errors, created names, data, children, Stat
// fields (compared relatively), watch registrations and the watch events each session
// sees must agree. Where they do not, the simulator is wrong.
//
// Stats are compared relatively: versions, cversion, aversion, numChildren and data length
// exactly, the ephemeral owner as s0/s1/none, and czxid/mzxid/pzxid only by the order
// relations between every zxid seen in the case (ctime/mtime not at all). A multi create's
// result carries no Stat in the C client, so only its name is compared.
//
// LOCKSTEP_DIFF_CASES sets the number of generated sequences (default 300);
// LOCKSTEP_DIFF_TRACE=1 prints every step as it runs. RC_PARAMS="seed=N" replays a run.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/store.h"
#include "properties/sim_harness.h"
#include "real/event_loop.h"
#include "real/live_env.h"
#include "real/zk_store.h"

namespace lockstep {
namespace {

using namespace std::chrono_literals;

// The C client would log every refused reattach of a closed session; keep it quiet
// unless the caller asked for the log.
const bool quiet_client = [] { return setenv("LOCKSTEP_ZK_LOG", "off", 0) == 0; }();

// ---------------------------------------------------------------------------------------
// The operations.

// Reopen replaces a closed session with a new one (a no-op while it is open). Expire is
// the expire_session fault (issue 18 item 3), in its live form: the server ends the session
// (a second handle with its id closes it), and the session learns it when it reconnects.
enum class Kind { Create, Remove, Set, Get, Exists, Children, Multi, Close, Reopen, Expire };
// An expected version: -1, the node's current version, a wrong one, or 0.
enum class Ver { Any, Current, Wrong, Zero };

struct SubOp {
  OpType type = OpType::Check;
  std::string path;  // relative to the case's base; "" is the base itself
  CreateMode mode = CreateMode::Persistent;
  Ver ver = Ver::Any;
  std::string data;
};

struct Step {
  Kind kind = Kind::Get;
  int session = 0;
  std::string path;
  CreateMode mode = CreateMode::Persistent;
  Duration ttl = Duration(0);  // what a create passes as its TTL
  Ver ver = Ver::Any;
  std::string data;
  bool watch = false;
  std::vector<SubOp> ops;
};

// Long enough that no TTL node expires during a case, however far the simulated clock
// jumps for the container manager.
constexpr Duration kTtl = std::chrono::hours(24 * 30);
constexpr Duration kSessionTimeout = 10s;
// The simulated container manager's interval: the test jumps to its passes explicitly,
// so no pass happens in the middle of an operation.
constexpr Duration kSimContainerInterval = 600s;

// What the run covered, printed at the end.
struct Coverage {
  int64_t cases = 0, steps = 0, ok_steps = 0, events = 0, reaps = 0, closes = 0, expiries = 0;
  Duration slowest_reap{0};  // how long the live container manager took, at worst
} g_cover;

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::Create:
      return "create";
    case Kind::Remove:
      return "remove";
    case Kind::Set:
      return "set";
    case Kind::Get:
      return "get";
    case Kind::Exists:
      return "exists";
    case Kind::Children:
      return "children";
    case Kind::Multi:
      return "multi";
    case Kind::Close:
      return "close";
    case Kind::Reopen:
      return "reopen";
    case Kind::Expire:
      return "expire";
  }
  return "?";
}

const char* ver_name(Ver v) {
  switch (v) {
    case Ver::Any:
      return "any";
    case Ver::Current:
      return "current";
    case Ver::Wrong:
      return "wrong";
    case Ver::Zero:
      return "0";
  }
  return "?";
}

// Bytes outside printable ASCII as \xNN, so a transcript reads the same everywhere.
std::string printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

std::string show_path(const std::string& rel) { return rel.empty() ? "~" : printable(rel); }

void show_sub(const SubOp& o, std::ostream& os) {
  switch (o.type) {
    case OpType::Create:
      os << "create " << show_path(o.path) << " " << create_mode_name(o.mode) << " '"
         << printable(o.data) << "'";
      break;
    case OpType::Remove:
      os << "remove " << show_path(o.path) << " v=" << ver_name(o.ver);
      break;
    case OpType::Set:
      os << "set " << show_path(o.path) << " '" << printable(o.data) << "' v=" << ver_name(o.ver);
      break;
    case OpType::Check:
      os << "check " << show_path(o.path) << " v=" << ver_name(o.ver);
      break;
  }
}

void showValue(const Step& s, std::ostream& os) {
  os << "s" << s.session << " " << kind_name(s.kind);
  switch (s.kind) {
    case Kind::Create:
      os << " " << show_path(s.path) << " " << create_mode_name(s.mode) << " '" << printable(s.data)
         << "'";
      if (s.ttl != Duration(0)) os << " ttl=" << format_duration(s.ttl);
      break;
    case Kind::Remove:
      os << " " << show_path(s.path) << " v=" << ver_name(s.ver);
      break;
    case Kind::Set:
      os << " " << show_path(s.path) << " '" << printable(s.data) << "' v=" << ver_name(s.ver);
      break;
    case Kind::Get:
    case Kind::Exists:
    case Kind::Children:
      os << " " << show_path(s.path) << (s.watch ? " watch" : "");
      break;
    case Kind::Multi:
      os << " [";
      for (size_t i = 0; i < s.ops.size(); ++i) {
        if (i) os << "; ";
        show_sub(s.ops[i], os);
      }
      os << "]";
      break;
    case Kind::Close:
    case Kind::Reopen:
    case Kind::Expire:
      break;
  }
}

std::string show_step(const Step& s) {
  std::ostringstream os;
  showValue(s, os);
  return os.str();
}

// ---------------------------------------------------------------------------------------
// Generators: a small path alphabet under the base, every create mode, right and wrong
// versions.

rc::Gen<std::string> gen_path() {
  return rc::gen::weightedElement<std::string>({{3, ""},
                                                {10, "a"},
                                                {6, "b"},
                                                {2, "c"},
                                                {6, "a/x"},
                                                {2, "a/y"},
                                                {3, "b/x"},
                                                {2, "a/x/z"},
                                                {1, "a/"}});
}

// Not the base itself: its parent is the server's root, whose sequence counter other
// cases have moved.
// A sequential create gets a prefix its suffix completes (mostly); any other a node of
// the alphabet (mostly).
rc::Gen<std::string> gen_create_path(CreateMode mode) {
  if (is_sequential(mode))
    return rc::gen::weightedElement<std::string>(
        {{3, "s-"}, {4, "a/s-"}, {3, "a/"}, {1, "b/x/"}, {1, "a"}});
  return rc::gen::weightedElement<std::string>({{10, "a"},
                                                {6, "b"},
                                                {3, "c"},
                                                {7, "a/x"},
                                                {2, "a/y"},
                                                {3, "b/x"},
                                                {2, "a/x/z"},
                                                {1, "a/s-"},
                                                {1, "a/"}});
}

rc::Gen<CreateMode> gen_mode(bool ttl_modes, bool container = true) {
  return rc::gen::weightedElement<CreateMode>(
      {{8, CreateMode::Persistent},
       {5, CreateMode::Ephemeral},
       {4, CreateMode::PersistentSequential},
       {4, CreateMode::EphemeralSequential},
       {container ? 5 : 0, CreateMode::Container},
       {ttl_modes ? 3 : 0, CreateMode::PersistentWithTtl},
       {ttl_modes ? 2 : 0, CreateMode::PersistentSequentialWithTtl}});
}

rc::Gen<Ver> gen_ver() {
  return rc::gen::weightedElement<Ver>(
      {{3, Ver::Any}, {4, Ver::Current}, {2, Ver::Wrong}, {1, Ver::Zero}});
}

rc::Gen<std::string> gen_data() { return rc::gen::element<std::string>("", "x", "data"); }

rc::Gen<SubOp> gen_sub() {
  return rc::gen::exec([] {
    SubOp o;
    o.type = *rc::gen::weightedElement<OpType>(
        {{4, OpType::Create}, {2, OpType::Remove}, {2, OpType::Set}, {2, OpType::Check}});
    if (o.type == OpType::Create) {
      // A TTL or container create in a multi now and then: the store refuses the whole
      // request before the C client sees it (multi_create_unsupported).
      o.mode = *rc::gen::weightedElement<CreateMode>({{12, CreateMode::Persistent},
                                                      {1, CreateMode::PersistentWithTtl},
                                                      {1, CreateMode::Container}});
      if (o.mode == CreateMode::Persistent) o.mode = *gen_mode(false, false);
      o.path = *gen_create_path(o.mode);
      o.data = *gen_data();
    } else {
      o.path = *gen_path();
      o.ver = *gen_ver();
      if (o.type == OpType::Set) o.data = *gen_data();
    }
    return o;
  });
}

rc::Gen<Step> gen_step() {
  return rc::gen::exec([] {
    Step s;
    s.kind = *rc::gen::weightedElement<Kind>({{35, Kind::Create},
                                              {10, Kind::Remove},
                                              {10, Kind::Set},
                                              {10, Kind::Get},
                                              {10, Kind::Exists},
                                              {10, Kind::Children},
                                              {12, Kind::Multi},
                                              {2, Kind::Close},
                                              {2, Kind::Expire},
                                              {6, Kind::Reopen}});
    s.session = *rc::gen::weightedElement<int>({{3, 0}, {2, 1}});
    switch (s.kind) {
      case Kind::Create: {
        s.mode = *gen_mode(true);
        s.path = *gen_create_path(s.mode);
        // Mostly a TTL exactly where it belongs; sometimes missing or misplaced.
        bool ttl = is_ttl(s.mode) ? *rc::gen::weightedElement<bool>({{8, true}, {1, false}})
                                  : *rc::gen::weightedElement<bool>({{12, false}, {1, true}});
        s.ttl = ttl ? kTtl : Duration(0);
        s.data = *gen_data();
        break;
      }
      case Kind::Remove:
        s.path = *gen_path();
        s.ver = *gen_ver();
        break;
      case Kind::Set:
        s.path = *gen_path();
        s.ver = *gen_ver();
        s.data = *gen_data();
        break;
      case Kind::Get:
      case Kind::Exists:
      case Kind::Children:
        s.path = *gen_path();
        s.watch = *rc::gen::weightedElement<bool>({{2, true}, {1, false}});
        break;
      case Kind::Multi:
        // An invalid path anywhere: the store refuses it before zoo_amulti (which would
        // crash on one followed by more ops) sees it.
        s.ops = *rc::gen::resize(4, rc::gen::container<std::vector<SubOp>>(gen_sub()));
        break;
      case Kind::Close:
      case Kind::Reopen:
      case Kind::Expire:
        break;
    }
    return s;
  });
}

// A persistent "a" with a child "a/x", and a container "b" with an ephemeral child "b/x"
// of s1 (the container goes once that child does).
std::vector<Step> prelude_steps() {
  std::vector<Step> out(4);
  for (Step& s : out) s.kind = Kind::Create;
  out[0].path = "a";
  out[1].path = "a/x";
  out[2].path = "b";
  out[2].mode = CreateMode::Container;
  out[3].path = "b/x";
  out[3].mode = CreateMode::Ephemeral;
  out[3].session = 1;
  return out;
}

// ---------------------------------------------------------------------------------------
// The two stores behind one interface.

class Backend {
 public:
  Backend(std::string name, std::string base) : name_(std::move(name)), base_(std::move(base)) {}
  virtual ~Backend() { *alive_ = false; }

  const std::string& name() const { return name_; }
  // Runs the store's world until `done` holds; false if it did not in a long while.
  virtual bool pump(const std::function<bool()>& done) = 0;
  virtual Future<ConnectReply> connect_one(int index) = 0;
  virtual Session& admin() = 0;
  // Waits for the container manager to reap `candidates` (empty containers that once
  // had children).
  virtual void reap(const std::vector<std::string>& candidates) = 0;
  // Has the server expire session `index` (as the expire_session fault does); Ok once it
  // has.
  virtual Error expire(int index) = 0;

  template <class T>
  T await(Future<T> f) {
    if (!pump([&] { return f.ready(); })) throw std::runtime_error(name_ + ": no answer in time");
    return f.get();
  }

  // A path of the alphabet under the base; one starting with '/' (in hand-written cases)
  // is taken as it is.
  std::string abs(const std::string& rel) const {
    if (!rel.empty() && rel[0] == '/') return rel;
    return rel.empty() ? base_ : base_ + "/" + rel;
  }
  std::string rel(const std::string& path) const {
    if (path == base_) return "~";
    if (path.rfind(base_ + "/", 0) == 0) return printable(path.substr(base_.size() + 1));
    return path.empty() ? "\"\"" : printable(path);
  }

  // The sessions s0 and s1 and what they saw.
  std::shared_ptr<Session> sessions[2];
  bool closed[2] = {false, false};    // not open: closed or expired
  bool released[2] = {false, false};  // close() called on the handle
  std::vector<std::string> events[2];
  // Container nodes this store said it created (absolute paths).
  std::set<std::string> containers;

  // Records the events a watch delivers into the session's log, in arrival order.
  void follow(int session, Future<WatchEvent> f) {
    if (!f.valid()) return;
    watches_.push_back(f);
    const Future<WatchEvent>* kept = &watches_.back();
    auto alive = alive_;
    auto record = [this, alive, kept, session] {
      if (*alive) events[session].push_back(show_event(kept->get()));
    };
    if (f.ready())
      record();
    else
      f.base()->subscribe(record);
  }

  // A zxid as a label numbered by first appearance: equal zxids share one.
  std::string zxid(int64_t z) {
    auto [it, fresh] = labels_.emplace(z, static_cast<int>(labels_.size()));
    return "z" + std::to_string(it->second);
  }
  // The labels in zxid order: the relations between every zxid seen so far.
  std::string zxid_order() const {
    std::string out;
    for (const auto& [z, label] : labels_)
      out += (out.empty() ? "z" : "<z") + std::to_string(label);
    return out;
  }
  std::string owner(int64_t id) const {
    if (id == 0) return "none";
    for (int i = 0; i < 2; ++i)
      if (sessions[i] && sessions[i]->id() == id) return "s" + std::to_string(i);
    return "?";
  }

 private:
  std::string show_event(const WatchEvent& e) const {
    std::string out(watch_event_name(e.type));
    if (e.type == WatchEventType::SessionEnded)
      return out + "(" + std::string(session_state_name(e.state)) + ")";
    return out + " " + rel(e.path);
  }

  std::string name_;
  std::string base_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::deque<Future<WatchEvent>> watches_;
  std::map<int64_t, int> labels_;
};

class SimBackend final : public Backend {
 public:
  explicit SimBackend(const std::string& base)
      : Backend("sim", base),
        h_(3, 1, "[]",
           R"(,"server":{"ttl_check_interval":")" + format_duration(kSimContainerInterval) +
               R"("})") {
    ConnectReply c = await(h_.store().connect(h_.client(2), kSessionTimeout));
    if (c.err != Error::Ok) throw std::runtime_error("sim: admin connect failed");
    admin_ = c.session;
    if (await(admin_->create(base, "", CreateMode::Persistent)).err != Error::Ok)
      throw std::runtime_error("sim: cannot create the base");
  }
  ~SimBackend() override {
    for (auto& s : sessions) s.reset();
    admin_.reset();
  }

  bool pump(const std::function<bool()>& done) override {
    h_.world().run(h_.world().now() + 120s, done);
    return done();
  }
  Future<ConnectReply> connect_one(int index) override {
    return h_.store().connect(h_.client(index), kSessionTimeout);
  }
  Session& admin() override { return *admin_; }
  void reap(const std::vector<std::string>&) override {
    // To just after the container manager's next pass.
    Time now = h_.world().now();
    Time next = (now / kSimContainerInterval + 1) * kSimContainerInterval + 1ms;
    h_.world().run(next, nullptr);
  }
  Error expire(int index) override {
    h_.server().expire_session(sessions[index]->id());
    return Error::Ok;
  }
  // The version a node has here now (0 if it is missing), to name "current".
  int32_t version_of(const std::string& path) {
    ReadResult r = h_.server().tree().exists(0, path, false);
    return r.err == Error::Ok ? r.stat.version : 0;
  }

 private:
  sim::testing::SimHarness h_;
  std::shared_ptr<Session> admin_;
};

// What stays up across cases: the loop, the store and an admin session.
struct Live {
  real::EventLoop loop;
  real::LiveEnv env{loop, 0};
  std::unique_ptr<real::ZkStore> store;
  std::shared_ptr<Session> admin;
};

class LiveBackend final : public Backend {
 public:
  LiveBackend(Live& live, const std::string& base) : Backend("live", base), live_(live) {
    if (await(live_.admin->create(base, "", CreateMode::Persistent)).err != Error::Ok)
      throw std::runtime_error("live: cannot create the base " + base);
  }

  bool pump(const std::function<bool()>& done) override {
    return live_.loop.run_until(done, real::EventLoop::Clock::now() + 20s);
  }
  Future<ConnectReply> connect_one(int) override {
    return live_.store->connect(live_.env, kSessionTimeout);
  }
  Session& admin() override { return *live_.admin; }
  Error expire(int index) override {
    auto* zk = dynamic_cast<real::ZkSession*>(sessions[index].get());
    if (!zk) throw std::runtime_error("live: not a ZooKeeper session");
    return await(zk->expire());
  }
  void reap(const std::vector<std::string>& candidates) override {
    // The server's container manager runs every 500 ms (scripts/zk). Every candidate is
    // one ZooKeeper must delete (empty, had children), so the generous bound costs nothing
    // unless the server is wrong, and a slow machine does not fail the test.
    const auto start = real::EventLoop::Clock::now();
    const auto deadline = start + 20s;
    for (;;) {
      bool all_gone = true;
      for (const auto& c : candidates)
        if (await(live_.admin->exists(c)).err != Error::NoNode) all_gone = false;
      const auto now = real::EventLoop::Clock::now();
      g_cover.slowest_reap =
          std::max(g_cover.slowest_reap,
                   Duration(std::chrono::duration_cast<std::chrono::milliseconds>(now - start)));
      if (all_gone || now > deadline) return;
      live_.loop.run_until([] { return false; }, real::EventLoop::Clock::now() + 25ms);
    }
  }

 private:
  Live& live_;
};

// ---------------------------------------------------------------------------------------
// Running one step on one store, as a string that must be equal on both.

struct Versions {
  int32_t step = -1;
  std::vector<int32_t> ops;
};

int32_t resolve(Ver v, int32_t current) {
  switch (v) {
    case Ver::Any:
      return -1;
    case Ver::Current:
      return current;
    case Ver::Wrong:
      return current + 3;
    case Ver::Zero:
      return 0;
  }
  return -1;
}

std::string show_stat(Backend& b, const Stat& s) {
  std::ostringstream os;
  os << "{v=" << s.version << " cv=" << s.cversion << " av=" << s.aversion
     << " nc=" << s.num_children << " len=" << s.data_length
     << " owner=" << b.owner(s.ephemeral_owner) << " c=" << b.zxid(s.czxid)
     << " m=" << b.zxid(s.mzxid) << " p=" << b.zxid(s.pzxid) << "}";
  return os.str();
}

std::string run_step(Backend& b, const Step& st, const Versions& v) {
  std::ostringstream os;
  Session& s = *b.sessions[st.session];
  const std::string path = b.abs(st.path);
  switch (st.kind) {
    case Kind::Create: {
      CreateReply r = b.await(s.create(path, st.data, st.mode, st.ttl));
      os << error_name(r.err);
      if (r.err == Error::Ok) {
        os << " " << b.rel(r.path) << " " << show_stat(b, r.stat);
        if (st.mode == CreateMode::Container) b.containers.insert(r.path);
      }
      break;
    }
    case Kind::Remove:
      os << error_name(b.await(s.remove(path, v.step)));
      break;
    case Kind::Set: {
      SetReply r = b.await(s.set(path, st.data, v.step));
      os << error_name(r.err);
      if (r.err == Error::Ok) os << " " << show_stat(b, r.stat);
      break;
    }
    case Kind::Get: {
      GetReply r = b.await(s.get(path, st.watch));
      os << error_name(r.err);
      if (r.err == Error::Ok) os << " '" << printable(r.data) << "' " << show_stat(b, r.stat);
      if (r.watch.valid()) os << " +watch";
      b.follow(st.session, r.watch);
      break;
    }
    case Kind::Exists: {
      ExistsReply r = b.await(s.exists(path, st.watch));
      os << error_name(r.err);
      if (r.err == Error::Ok) os << " " << show_stat(b, r.stat);
      if (r.watch.valid()) os << " +watch";
      b.follow(st.session, r.watch);
      break;
    }
    case Kind::Children: {
      ChildrenReply r = b.await(s.children(path, st.watch));
      os << error_name(r.err);
      if (r.err == Error::Ok) {
        std::vector<std::string> kids = r.children;
        std::sort(kids.begin(), kids.end());
        os << " [";
        for (size_t i = 0; i < kids.size(); ++i) os << (i ? "," : "") << printable(kids[i]);
        os << "] " << show_stat(b, r.stat);
      }
      if (r.watch.valid()) os << " +watch";
      b.follow(st.session, r.watch);
      break;
    }
    case Kind::Multi: {
      std::vector<Op> ops;
      for (size_t i = 0; i < st.ops.size(); ++i) {
        const SubOp& o = st.ops[i];
        switch (o.type) {
          case OpType::Create:
            ops.push_back(Op::create(b.abs(o.path), o.data, o.mode));
            break;
          case OpType::Remove:
            ops.push_back(Op::remove(b.abs(o.path), v.ops[i]));
            break;
          case OpType::Set:
            ops.push_back(Op::set(b.abs(o.path), o.data, v.ops[i]));
            break;
          case OpType::Check:
            ops.push_back(Op::check(b.abs(o.path), v.ops[i]));
            break;
        }
      }
      MultiReply r = b.await(s.multi(ops));
      os << error_name(r.err) << " [";
      for (size_t i = 0; i < r.results.size(); ++i) {
        const OpResult& o = r.results[i];
        os << (i ? "; " : "") << error_name(o.err);
        if (o.err != Error::Ok || i >= st.ops.size()) continue;
        // The C client's multi create carries no Stat: compare the name only.
        if (st.ops[i].type == OpType::Create) {
          os << " " << b.rel(o.path);
          if (r.err == Error::Ok && st.ops[i].mode == CreateMode::Container)
            b.containers.insert(o.path);
        }
        if (st.ops[i].type == OpType::Set && r.err == Error::Ok) os << " " << show_stat(b, o.stat);
      }
      os << "]";
      break;
    }
    case Kind::Close:
      // An expired session's handle is still the client's to close; once closed, every
      // call is refused with Closing (store.h), so there is nothing left to close.
      if (b.released[st.session]) {
        os << "closed already";
        break;
      }
      b.await(s.close());
      b.closed[st.session] = b.released[st.session] = true;
      os << "closed, state " << session_state_name(s.state());
      break;
    case Kind::Expire: {
      if (b.closed[st.session]) {
        os << "closed already";
        break;
      }
      const Error e = b.expire(st.session);
      // The session hears of it when its connection drops and it reconnects.
      const bool told = b.pump([&s] { return s.state() == SessionState::Expired; });
      os << "expire: " << error_name(e) << ", state "
         << (told ? session_state_name(s.state()) : "not told");
      b.closed[st.session] = true;
      break;
    }
    case Kind::Reopen: {
      if (!b.closed[st.session]) {
        os << "open already";
        break;
      }
      ConnectReply c = b.await(b.connect_one(st.session));
      os << "reopened: " << error_name(c.err);
      if (c.err != Error::Ok) throw std::runtime_error(b.name() + ": reconnect failed");
      b.sessions[st.session] = c.session;
      b.closed[st.session] = b.released[st.session] = false;
      break;
    }
  }
  return os.str();
}

// After a step: lets the container manager reap what the step emptied, tells which of the
// containers seen so far are gone, then makes a round trip on every open session, so every
// notification the step caused has arrived (they precede replies on one connection).
// ZooKeeper's container manager runs on its own timer and may reap a container before the
// step's reply is even read (a close, which takes several round trips, often outlasts a
// pass), so what is compared is which containers are gone after the step, not who took
// them or when.
std::string settle(Backend& b) {
  for (int round = 0; round < 3; ++round) {
    std::vector<std::string> candidates;
    for (const std::string& c : b.containers) {
      ExistsReply e = b.await(b.admin().exists(c));
      if (e.err == Error::Ok && e.stat.num_children == 0 && e.stat.cversion > 0)
        candidates.push_back(c);
    }
    if (candidates.empty()) break;
    if (b.name() == "live") g_cover.reaps += static_cast<int64_t>(candidates.size());
    b.reap(candidates);
  }
  std::ostringstream os;
  for (auto it = b.containers.begin(); it != b.containers.end();) {
    if (b.await(b.admin().exists(*it)).err == Error::NoNode) {
      os << " | gone " << b.rel(*it);
      it = b.containers.erase(it);
    } else {
      ++it;
    }
  }
  for (int i = 0; i < 2; ++i)
    if (b.sessions[i] && !b.closed[i]) b.await(b.sessions[i]->get(b.abs("")));
  return os.str();
}

std::string show_events(const std::vector<std::string>& events, size_t from = 0) {
  std::string out;
  for (size_t i = from; i < events.size(); ++i) out += (out.empty() ? "" : ", ") + events[i];
  return "[" + out + "]";
}

// ---------------------------------------------------------------------------------------
// One case: the sequence on both stores, compared after every step.

Live* g_live = nullptr;

// LOCKSTEP_DIFF_TRACE=1 prints every step before it runs (to find where the process
// died, should a client library abort) and the transcript of each as it goes.
bool trace_steps() {
  static const bool on = std::getenv("LOCKSTEP_DIFF_TRACE") != nullptr;
  return on;
}
int g_case = 0;

Task<void> cleanup_live(Session& admin, std::string base, Error* out) {
  *out = co_await real::remove_recursive(admin, base);
}

// Returns "" if the stores agreed on every step, else a readable transcript.
std::string run_case(const std::vector<Step>& steps) {
  const std::string base = "/diff-" + std::to_string(getpid()) + "-" + std::to_string(++g_case);
  int nsessions = 1;
  for (const Step& s : steps) nsessions = std::max(nsessions, s.session + 1);

  std::ostringstream log;
  std::string verdict;
  try {
    SimBackend sim(base);
    LiveBackend live(*g_live, base);
    Backend* both[2] = {&sim, &live};
    for (int i = 0; i < nsessions; ++i)
      for (Backend* b : both) {
        ConnectReply c = b->await(b->connect_one(i));
        if (c.err != Error::Ok) throw std::runtime_error(b->name() + ": connect failed");
        b->sessions[i] = c.session;
      }

    size_t shown[2] = {0, 0};  // events already in the transcript
    size_t logged = 0;         // transcript already traced
    for (size_t k = 0; k < steps.size() && verdict.empty(); ++k) {
      const Step& st = steps[k];
      // "current" is the version the simulator has: right there if it agrees.
      Versions v;
      v.step = resolve(st.ver, sim.version_of(sim.abs(st.path)));
      for (const SubOp& o : st.ops)
        v.ops.push_back(resolve(o.ver, sim.version_of(sim.abs(o.path))));
      // Before running it, to know where a crash happened.
      if (trace_steps()) std::cerr << base << " #" << k << " ..." << std::endl;
      std::string out[2], ev[2][2], order[2];
      for (int i = 0; i < 2; ++i) {
        size_t before[2] = {both[i]->events[0].size(), both[i]->events[1].size()};
        out[i] = run_step(*both[i], st, v);
        out[i] += settle(*both[i]);
        for (int s = 0; s < nsessions; ++s) {
          std::vector<std::string>& seen = both[i]->events[s];
          // A closing session's ephemerals go in the order of a Java HashSet of their full
          // paths (DataTree.killSession), which the simulator cannot know under the test's
          // base path: the events of one close are kept, and compared, as a sorted set.
          if (st.kind == Kind::Close || st.kind == Kind::Expire)
            std::sort(seen.begin() + static_cast<std::ptrdiff_t>(std::min(before[s], seen.size())),
                      seen.end());
          // What the expired session's own watches hear is a race on a live server: the
          // notifications of its ephemerals' deletes are written to its connection just
          // before the server closes it, and the C client reads them or not (both seen on
          // 3.8: [children_changed b, deleted a] and [session_ended(expired) x2]). Each of
          // its watches hears one of the two; which is not compared.
          if (st.kind == Kind::Expire && s == st.session && seen.size() > before[s]) {
            const size_t heard = seen.size() - before[s];
            seen.resize(before[s]);
            seen.push_back("ended(" + std::to_string(heard) + " watches told)");
          }
          ev[i][s] = show_events(seen);
        }
        order[i] = both[i]->zxid_order();
      }
      log << "#" << k << " " << show_step(st) << "\n";
      bool same = out[0] == out[1] && order[0] == order[1];
      for (int s = 0; s < nsessions; ++s) same = same && ev[0][s] == ev[1][s];
      if (same) {
        log << "    " << out[0] << "\n";
        for (int s = 0; s < nsessions; ++s) {
          if (sim.events[s].size() > shown[s])
            log << "    s" << s << " saw " << show_events(sim.events[s], shown[s]) << "\n";
          shown[s] = sim.events[s].size();
        }
        if (trace_steps()) std::cerr << log.str().substr(logged);
        logged = log.str().size();
        ++g_cover.steps;
        if (out[0].rfind("Ok", 0) == 0) ++g_cover.ok_steps;
        if (st.kind == Kind::Close) ++g_cover.closes;
        if (st.kind == Kind::Expire) ++g_cover.expiries;
        continue;
      }
      log << "    sim:  " << out[0] << "\n    live: " << out[1] << "\n";
      for (int s = 0; s < nsessions; ++s)
        if (ev[0][s] != ev[1][s])
          log << "    s" << s << " events sim:  " << ev[0][s] << "\n    s" << s
              << " events live: " << ev[1][s] << "\n";
      if (order[0] != order[1])
        log << "    zxid order sim:  " << order[0] << "\n    zxid order live: " << order[1] << "\n";
      verdict = "the simulator disagrees with ZooKeeper at step #" + std::to_string(k);
    }

    ++g_cover.cases;
    for (int i = 0; i < nsessions; ++i)
      g_cover.events += static_cast<int64_t>(live.events[i].size());
    for (Backend* b : both)
      for (int i = 0; i < nsessions; ++i)
        if (b->sessions[i] && !b->released[i]) b->await(b->sessions[i]->close());
  } catch (...) {
    Error ignored;
    real::run_task(g_live->env, cleanup_live(*g_live->admin, base, &ignored), 30s);
    throw;
  }
  Error cleaned = Error::Ok;
  real::run_task(g_live->env, cleanup_live(*g_live->admin, base, &cleaned), 30s);
  if (cleaned != Error::Ok)
    throw std::runtime_error("cannot remove " + base + ": " + std::string(error_name(cleaned)));
  if (verdict.empty()) return "";
  return verdict + " (base " + base + "):\n" + log.str();
}

int cases_to_run() {
  if (const char* env = std::getenv("LOCKSTEP_DIFF_CASES")) {
    int n = std::atoi(env);
    if (n > 0) return n;
  }
  return 300;
}

class LiveDifferential : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* address = std::getenv("LOCKSTEP_ZK");
    if (!address)
      GTEST_SKIP() << "LOCKSTEP_ZK is not set; run with LOCKSTEP_ZK=$(scripts/zk start)";
    live_.store = std::make_unique<real::ZkStore>(address);
    Future<ConnectReply> c = live_.store->connect(live_.env, kSessionTimeout);
    ASSERT_TRUE(
        live_.loop.run_until([&] { return c.ready(); }, real::EventLoop::Clock::now() + 20s));
    ASSERT_EQ(c.get().err, Error::Ok);
    live_.admin = c.get().session;
    g_live = &live_;
  }
  void TearDown() override {
    g_live = nullptr;
    if (!live_.admin) return;
    Future<Unit> closed = live_.admin->close();
    live_.loop.run_until([&] { return closed.ready(); }, real::EventLoop::Clock::now() + 20s);
  }

  Live live_;
};

std::string g_first_disagreement;

TEST_F(LiveDifferential, RandomSequencesAgree) {
  rc::detail::TestParams params = rc::detail::configuration().testParams;
  params.maxSuccess = cases_to_run();
  rc::detail::TestMetadata metadata;
  metadata.id = "LiveDifferential/RandomSequencesAgree";
  metadata.description = "RandomSequencesAgree";
  g_cover = Coverage{};
  const auto result = rc::detail::checkTestable(
      [] {
        // Mostly from a few nodes, so more operations find what they need.
        const bool prelude = *rc::gen::weightedElement<bool>({{2, true}, {1, false}});
        const auto generated =
            *rc::gen::resize(40, rc::gen::container<std::vector<Step>>(gen_step()));
        std::vector<Step> steps = prelude ? prelude_steps() : std::vector<Step>{};
        steps.insert(steps.end(), generated.begin(), generated.end());
        std::string transcript = run_case(steps);
        if (transcript.empty()) return;
        // Shrinking re-runs cases against a live server, whose timing is not ours: keep the
        // disagreement as first seen, whatever the shrunk case then shows.
        if (g_first_disagreement.empty()) {
          g_first_disagreement = transcript;
          std::cerr << "differential: first disagreement, before shrinking:\n"
                    << transcript << std::endl;
        }
        RC_FAIL(transcript);
      },
      metadata, params);
  std::ostringstream msg;
  rc::detail::printResultMessage(result, msg);
  if (!result.template is<rc::detail::SuccessResult>())
    ADD_FAILURE() << msg.str() << "\nthe first disagreement, before shrinking:\n"
                  << g_first_disagreement;
  else
    std::cout << "differential: " << params.maxSuccess << " sequences agree (" << g_cover.steps
              << " steps, " << g_cover.ok_steps << " Ok, " << g_cover.events << " watch events, "
              << g_cover.closes << " closes, " << g_cover.expiries << " expiries, " << g_cover.reaps
              << " containers reaped, the slowest in " << format_duration(g_cover.slowest_reap)
              << ")\n";
}

// Steps for hand-written cases.
Step mk(int session, Kind kind, std::string path = "", CreateMode mode = CreateMode::Persistent) {
  Step s;
  s.session = session;
  s.kind = kind;
  s.path = std::move(path);
  s.mode = mode;
  return s;
}
Step watching(Step s) {
  s.watch = true;
  return s;
}
Step with_ttl(Step s, Duration ttl = kTtl) {
  s.ttl = ttl;
  return s;
}
Step multi(int session, std::vector<SubOp> ops) {
  Step s = mk(session, Kind::Multi);
  s.ops = std::move(ops);
  return s;
}
SubOp sub(OpType type, std::string path, CreateMode mode = CreateMode::Persistent) {
  SubOp o;
  o.type = type;
  o.path = std::move(path);
  o.mode = mode;
  return o;
}

// The disagreements found so far, and corners the generator reaches only rarely.
TEST_F(LiveDifferential, KnownCasesAgree) {
  const std::vector<std::vector<Step>> cases = {
      // A TTL with a mode that takes none: the client refuses it.
      {with_ttl(mk(0, Kind::Create, "a", CreateMode::PersistentSequential)),
       with_ttl(mk(0, Kind::Create, "a", CreateMode::Persistent))},
      // A TTL mode without a TTL, or with one out of range (ZOO_MAX_TTL is 2^40 - 1 ms).
      {mk(0, Kind::Create, "a", CreateMode::PersistentWithTtl),
       with_ttl(mk(0, Kind::Create, "a", CreateMode::PersistentWithTtl),
                std::chrono::milliseconds(int64_t{1} << 40)),
       with_ttl(mk(0, Kind::Create, "a", CreateMode::PersistentSequentialWithTtl),
                std::chrono::milliseconds((int64_t{1} << 40) - 1)),
       with_ttl(mk(0, Kind::Create, "a", CreateMode::Container))},
      // Binary data, and a multi whose ops build on each other.
      {[] {
         Step s = mk(0, Kind::Create, "a");
         s.data = std::string("a\0b", 3);
         return s;
       }(),
       mk(1, Kind::Get, "a"),
       multi(0, {sub(OpType::Create, "a/x"), sub(OpType::Check, "a/x"), sub(OpType::Set, "a/x"),
                 sub(OpType::Create, "a/x/y"), sub(OpType::Remove, "a/x/y"),
                 sub(OpType::Create, "a/", CreateMode::PersistentSequential)}),
       watching(mk(1, Kind::Exists, "c")), watching(mk(1, Kind::Children, "a")),
       multi(0, {sub(OpType::Create, "c"), sub(OpType::Remove, "c"), sub(OpType::Create, "a/y"),
                 sub(OpType::Remove, "a/x")}),
       mk(1, Kind::Children, "a")},
      // A TTL create in a multi: Unimplemented as a whole, no per-op results, even with an
      // invalid path in it.
      {multi(0,
             {sub(OpType::Create, "a"), sub(OpType::Create, "t", CreateMode::PersistentWithTtl)}),
       multi(0, {sub(OpType::Create, "a/", CreateMode::PersistentWithTtl)}),
       multi(0,
             {sub(OpType::Create, "a", CreateMode::PersistentWithTtl), sub(OpType::Check, "a/")})},
      // An invalid path in a multi, last or not: MarshallingError, no per-op results.
      {multi(0, {sub(OpType::Create, "a"), sub(OpType::Check, "a/")}),
       multi(0, {sub(OpType::Create, "a/")}),
       multi(0, {sub(OpType::Check, "a/"), sub(OpType::Create, "b")})},
      // A container create in a multi: Unimplemented as a whole, nothing applied.
      {multi(0, {sub(OpType::Create, "a"), sub(OpType::Create, "c", CreateMode::Container)}),
       mk(1, Kind::Exists, "a")},
      // An expired session closed by its client: refused with Closing from then on.
      {mk(0, Kind::Expire), mk(0, Kind::Get, "a"), mk(0, Kind::Close), mk(0, Kind::Get, "a"),
       mk(0, Kind::Close), mk(0, Kind::Reopen), mk(0, Kind::Get, "a")},
      // A closed session refuses everything with Closing, before looking at arguments.
      {mk(0, Kind::Close), mk(0, Kind::Get, "a/"), multi(0, {sub(OpType::Check, "a/")}),
       with_ttl(mk(0, Kind::Create, "a")),
       multi(0, {sub(OpType::Create, "t", CreateMode::PersistentWithTtl)})},
      // Closing a session that watches its own ephemerals; another session watches too.
      {mk(0, Kind::Create, "a", CreateMode::Ephemeral), watching(mk(0, Kind::Exists, "a")),
       watching(mk(0, Kind::Get, "a")), watching(mk(0, Kind::Children, "")),
       watching(mk(1, Kind::Exists, "a")), watching(mk(1, Kind::Children, "")), mk(0, Kind::Close),
       mk(0, Kind::Reopen), mk(0, Kind::Create, "a", CreateMode::Ephemeral),
       watching(mk(1, Kind::Get, "a"))},
      // A session expired by the server (the expire_session fault): its ephemerals go,
      // the other session's watches fire, its own watches hear it ended; then it is
      // refused, and a new session takes its place.
      {mk(0, Kind::Create, "a", CreateMode::Ephemeral), mk(0, Kind::Create, "b"),
       mk(0, Kind::Create, "b/x", CreateMode::EphemeralSequential),
       watching(mk(0, Kind::Exists, "a")), watching(mk(0, Kind::Children, "b")),
       watching(mk(1, Kind::Exists, "a")), watching(mk(1, Kind::Children, "b")),
       mk(0, Kind::Expire), mk(0, Kind::Get, "a"), mk(0, Kind::Expire), mk(1, Kind::Expire),
       mk(0, Kind::Reopen), mk(0, Kind::Create, "a", CreateMode::Ephemeral), mk(1, Kind::Reopen),
       watching(mk(1, Kind::Get, "a"))},
      // A container emptied by a close goes; watches on it and its parent fire.
      {mk(0, Kind::Create, "b", CreateMode::Container),
       mk(0, Kind::Create, "b/x", CreateMode::Ephemeral), watching(mk(1, Kind::Children, "b")),
       watching(mk(1, Kind::Exists, "b")), watching(mk(1, Kind::Get, "b")),
       watching(mk(1, Kind::Children, "")), mk(0, Kind::Close), mk(1, Kind::Exists, "b")},
      // ZooKeeper's own nodes: not to be removed, the config node read-only.
      {mk(0, Kind::Remove, "/zookeeper"), mk(0, Kind::Remove, "/zookeeper/quota"),
       mk(0, Kind::Remove, "/zookeeper/config"), mk(0, Kind::Set, "/zookeeper/config"),
       mk(0, Kind::Create, "/zookeeper/config/x"), mk(0, Kind::Children, "/zookeeper"),
       mk(0, Kind::Remove, "/"), multi(0, {sub(OpType::Set, "/zookeeper/config")}),
       multi(0, {sub(OpType::Check, "/zookeeper/config")}),
       multi(0, {sub(OpType::Remove, "/zookeeper")})},
      // Paths the client lets through and the server refuses (or not), and ones the client
      // refuses.
      {mk(0, Kind::Create, "a\x7f"),
       mk(0, Kind::Create, "a\xc2\x80"),
       mk(0, Kind::Create, "a\xef\xbf\xbf"),
       mk(0, Kind::Create, "a\xf0\x9f\x98\x80"),
       mk(0, Kind::Create, "a\xff"),
       mk(0, Kind::Create, "a\x01"),
       mk(0, Kind::Create, "a/."),
       mk(0, Kind::Create, "a/.."),
       mk(0, Kind::Create, "."),
       mk(0, Kind::Create, ".."),
       mk(0, Kind::Create, "a", CreateMode::PersistentSequential),
       mk(0, Kind::Create, "a/.", CreateMode::PersistentSequential),
       mk(0, Kind::Create, "a/..", CreateMode::PersistentSequential),
       mk(0, Kind::Create, "a0000000000/..", CreateMode::PersistentSequential),
       mk(0, Kind::Set, "a\x7f"),
       mk(0, Kind::Get, "a\x7f"),
       mk(0, Kind::Exists, "a\x7f"),
       mk(0, Kind::Remove, "a\x7f"),
       multi(0, {sub(OpType::Check, "a\x7f")}),
       multi(0, {sub(OpType::Remove, "a\x7f")}),
       mk(0, Kind::Children, "")},
      // Two watches of one session on one path each fire; a children watch fires Deleted.
      {mk(0, Kind::Create, "a"), watching(mk(1, Kind::Get, "a")),
       watching(mk(1, Kind::Exists, "a")), watching(mk(1, Kind::Children, "a")),
       mk(0, Kind::Remove, "a")},
  };
  for (const auto& steps : cases) {
    std::string transcript = run_case(steps);
    EXPECT_TRUE(transcript.empty()) << transcript;
  }
}

}  // namespace
}  // namespace lockstep
