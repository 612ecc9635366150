// The live Store on a real ZooKeeper: what the simulated store must match. Needs a server
// (LOCKSTEP_ZK=$(scripts/zk start)); skipped without one. Every test works under its own
// base path and removes it at the end.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/store.h"
#include "real/event_loop.h"
#include "real/live_env.h"
#include "real/zk_store.h"

namespace lockstep {
// Readable failures.
void PrintTo(Error e, std::ostream* os) { *os << error_name(e); }
void PrintTo(SessionEvent e, std::ostream* os) { *os << session_event_name(e); }
void PrintTo(SessionState s, std::ostream* os) { *os << session_state_name(s); }
void PrintTo(WatchEventType t, std::ostream* os) { *os << watch_event_name(t); }
}  // namespace lockstep

namespace lockstep::real {
namespace {

using namespace std::chrono_literals;

const char* zk_address() { return std::getenv("LOCKSTEP_ZK"); }

// The relay tests make the C client log every refused reconnection; keep the output
// readable unless the caller asked for the log.
const bool quiet_client = [] { return setenv("LOCKSTEP_ZK_LOG", "off", 0) == 0; }();

// A TCP relay between the client and the first server of LOCKSTEP_ZK, so a test can cut
// the connection (the client goes Suspended and reconnects) or refuse it for a while
// (the server expires the session and the client learns it on reconnecting).
class Relay {
 public:
  explicit Relay(const std::string& upstream) {
    auto colon = upstream.rfind(':');
    host_ = upstream.substr(0, colon);
    port_ = std::stoi(upstream.substr(colon + 1));
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    listen(listen_fd_, 16);
    socklen_t len = sizeof a;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    local_port_ = ntohs(a.sin_port);
    if (pipe(wake_) != 0) std::abort();
    thread_ = std::thread([this] { loop(); });
  }
  ~Relay() {
    stop_ = true;
    poke();
    thread_.join();
    for (auto& [a, b] : pairs_) {
      close(a);
      close(b);
    }
    close(listen_fd_);
    close(wake_[0]);
    close(wake_[1]);
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(local_port_); }
  // Closes every relayed connection now; with `refuse`, new ones are closed on arrival.
  void cut(bool refuse) {
    refuse_ = refuse;
    cut_ = true;
    poke();
  }
  void allow() { refuse_ = false; }

 private:
  void poke() {
    char c = 1;
    (void)!write(wake_[1], &c, 1);
  }
  int dial() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port_));
    inet_pton(AF_INET, host_ == "localhost" ? "127.0.0.1" : host_.c_str(), &a.sin_addr);
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      close(fd);
      return -1;
    }
    return fd;
  }
  void drop_all() {
    for (auto& [a, b] : pairs_) {
      close(a);
      close(b);
    }
    pairs_.clear();
  }
  void loop() {
    char buf[65536];
    while (!stop_) {
      if (cut_.exchange(false)) drop_all();
      std::vector<pollfd> fds{{wake_[0], POLLIN, 0}, {listen_fd_, POLLIN, 0}};
      for (auto& [a, b] : pairs_) {
        fds.push_back({a, POLLIN, 0});
        fds.push_back({b, POLLIN, 0});
      }
      if (poll(fds.data(), fds.size(), 200) <= 0) continue;
      if (fds[0].revents) {
        char c[64];
        (void)!read(wake_[0], c, sizeof c);
        continue;  // re-check cut_ and stop_ first
      }
      size_t polled = pairs_.size();  // a pair accepted below has no pollfd yet
      if (fds[1].revents & POLLIN) {
        int in = accept(listen_fd_, nullptr, nullptr);
        if (in >= 0) {
          int out = refuse_ ? -1 : dial();
          if (out < 0)
            close(in);
          else
            pairs_.emplace_back(in, out);
        }
      }
      std::vector<size_t> dead;
      for (size_t i = 0; i < polled; ++i) {
        auto [a, b] = pairs_[i];
        for (int k = 0; k < 2; ++k) {
          const pollfd& p = fds[2 + 2 * i + k];
          if (!(p.revents & (POLLIN | POLLHUP | POLLERR))) continue;
          int from = k == 0 ? a : b, to = k == 0 ? b : a;
          ssize_t n = read(from, buf, sizeof buf);
          if (n <= 0 || write(to, buf, static_cast<size_t>(n)) != n) {
            dead.push_back(i);
            break;
          }
        }
      }
      for (auto it = dead.rbegin(); it != dead.rend(); ++it) {
        close(pairs_[*it].first);
        close(pairs_[*it].second);
        pairs_.erase(pairs_.begin() + static_cast<long>(*it));
      }
    }
  }

  std::string host_;
  int port_ = 0;
  int listen_fd_ = -1;
  int local_port_ = 0;
  int wake_[2] = {-1, -1};
  std::atomic<bool> stop_{false}, cut_{false}, refuse_{false};
  std::vector<std::pair<int, int>> pairs_;
  std::thread thread_;
};

class LiveStore : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!zk_address())
      GTEST_SKIP() << "LOCKSTEP_ZK is not set; run with LOCKSTEP_ZK=$(scripts/zk start)";
    static int counter = 0;
    base_ = "/lockstep-test-" + std::to_string(getpid()) + "-" + std::to_string(++counter);
    store_ = std::make_unique<ZkStore>(zk_address());
    admin_ = open();
    ASSERT_EQ(await(admin_->create(base_, "", CreateMode::Persistent)).err, Error::Ok);
  }
  void TearDown() override {
    if (!admin_) return;
    EXPECT_EQ(run_task(env_, remove_recursive(*admin_, base_), 30s), Error::Ok);
    EXPECT_EQ(await(admin_->exists(base_)).err, Error::NoNode);
    await(admin_->close());
    for (auto& s : opened_) {
      // Expired ones too: their handle is only released by close.
      await(s->close());
      settle_contexts(*s);
      EXPECT_EQ(s->live_contexts(), 0u) << "watcher/request contexts leaked";
    }
  }

  // Runs the loop until the future is set (failing the test after `timeout`).
  template <class T>
  T await(Future<T> f, Duration timeout = 15s) {
    auto deadline = EventLoop::Clock::now() + timeout;
    if (!loop_.run_until([&] { return f.ready(); }, deadline)) {
      ADD_FAILURE() << "timed out waiting";
      throw std::runtime_error("timed out");
    }
    return f.get();
  }
  // Runs the loop for a while (to see that nothing more happens).
  void idle(Duration d) {
    loop_.run_until([] { return false; }, EventLoop::Clock::now() + d);
  }
  // Close finishes on a helper thread; its bookkeeping lands on the loop just after.
  void settle_contexts(ZkSession& s) {
    loop_.run_until([&] { return s.live_contexts() == 0; }, EventLoop::Clock::now() + 5s);
  }

  std::shared_ptr<ZkSession> open(Duration timeout = 6s, Store* store = nullptr) {
    ConnectReply c = await((store ? store : store_.get())->connect(env_, timeout));
    EXPECT_EQ(c.err, Error::Ok);
    if (c.err != Error::Ok) throw std::runtime_error("connect failed");
    auto s = std::dynamic_pointer_cast<ZkSession>(c.session);
    if (admin_) opened_.push_back(s);
    return s;
  }
  std::string p(const std::string& name) const { return base_ + "/" + name; }

  EventLoop loop_;
  LiveEnv env_{loop_, 0};
  std::unique_ptr<ZkStore> store_;
  std::shared_ptr<ZkSession> admin_;
  std::vector<std::shared_ptr<ZkSession>> opened_;
  std::string base_;
};

TEST_F(LiveStore, ConnectNegotiatesTimeoutAndReportsState) {
  auto s = open(6s);
  EXPECT_EQ(s->state(), SessionState::Connected);
  EXPECT_NE(s->id(), 0);
  EXPECT_NE(s->id(), admin_->id());
  EXPECT_EQ(s->timeout(), 6s);
  EXPECT_EQ(s->client_id().passwd.size(), 16u);
  EXPECT_FALSE(s->next_event().ready());
  EXPECT_FALSE(s->ended().ready());
  // The server clamps the timeout to [2, 20] ticks (tickTime 2000 ms).
  auto small = open(1s);
  EXPECT_EQ(small->timeout(), 4s);
  auto big = open(120s);
  EXPECT_EQ(big->timeout(), 40s);
}

TEST_F(LiveStore, ConnectFailsCleanlyOnBadAddressOrNoServer) {
  ZkStore bad("no-port-here");
  EXPECT_EQ(await(bad.connect(env_, 4s)).err, Error::BadArguments);
  EXPECT_FALSE(ZkStore::validate("127.0.0.1:2181,127.0.0.1:2182/locks").size());
  EXPECT_TRUE(ZkStore::validate("127.0.0.1:x").size());
  EXPECT_TRUE(ZkStore::validate("127.0.0.1:2181/bad/").size());
  // Nothing listens on the relay's port once the relay is gone.
  std::string dead;
  {
    Relay r(zk_address());
    dead = r.address();
  }
  ZkOptions give_up_soon;
  give_up_soon.connect_timeout = 500ms;
  ZkStore nobody(dead, give_up_soon);
  EXPECT_EQ(await(nobody.connect(env_, 4s)).err, Error::ConnectionLoss);
}

TEST_F(LiveStore, CreateModes) {
  auto s = open();
  // Persistent.
  CreateReply r = await(s->create(p("plain"), "v", CreateMode::Persistent));
  ASSERT_EQ(r.err, Error::Ok);
  EXPECT_EQ(r.path, p("plain"));
  EXPECT_EQ(r.stat.version, 0);
  EXPECT_EQ(r.stat.czxid, r.stat.mzxid);
  EXPECT_EQ(r.stat.ephemeral_owner, 0);
  EXPECT_EQ(r.stat.data_length, 1);
  EXPECT_EQ(r.stat.num_children, 0);
  EXPECT_EQ(await(s->create(p("plain"), "", CreateMode::Persistent)).err, Error::NodeExists);
  EXPECT_EQ(await(s->create(p("missing/child"), "", CreateMode::Persistent)).err, Error::NoNode);
  EXPECT_EQ(await(s->create("relative", "", CreateMode::Persistent)).err, Error::BadArguments);
  EXPECT_EQ(await(s->create(p("trailing/"), "", CreateMode::Persistent)).err, Error::BadArguments);

  // Ephemeral: owned by the session, childless.
  r = await(s->create(p("eph"), "", CreateMode::Ephemeral));
  ASSERT_EQ(r.err, Error::Ok);
  EXPECT_EQ(r.stat.ephemeral_owner, s->id());
  EXPECT_EQ(await(s->create(p("eph/kid"), "", CreateMode::Persistent)).err,
            Error::NoChildrenForEphemerals);

  // Sequential: 10 digits, zero padded, one counter per parent shared by every mode.
  ASSERT_EQ(await(s->create(p("q"), "", CreateMode::Persistent)).err, Error::Ok);
  std::vector<std::string> names;
  for (CreateMode m : {CreateMode::PersistentSequential, CreateMode::EphemeralSequential,
                       CreateMode::PersistentSequential}) {
    r = await(s->create(p("q/n-"), "", m));
    ASSERT_EQ(r.err, Error::Ok);
    names.push_back(r.path);
  }
  EXPECT_EQ(names[0], p("q/n-0000000000"));
  EXPECT_EQ(names[1], p("q/n-0000000001"));
  EXPECT_EQ(names[2], p("q/n-0000000002"));
  // The counter counts the parent's successful child creations of any mode; deletes and
  // failed creates do not advance it. The cversion clients see counts creates and
  // deletes: the server keeps the create count and reports 2 * creates - numChildren.
  ASSERT_EQ(await(s->create(p("q/x"), "", CreateMode::Persistent)).err, Error::Ok);
  ASSERT_EQ(await(s->remove(p("q/x"))), Error::Ok);
  EXPECT_EQ(await(s->create(p("q/x"), "", CreateMode::Ephemeral)).err, Error::Ok);
  EXPECT_EQ(await(s->create(p("q/x"), "", CreateMode::Ephemeral)).err, Error::NodeExists);
  ASSERT_EQ(await(s->remove(p("q/x"))), Error::Ok);
  EXPECT_EQ(await(s->remove(p("q/x"))), Error::NoNode);
  r = await(s->create(p("q/"), "", CreateMode::PersistentSequential));
  EXPECT_EQ(r.path, p("q/0000000005"));
  ChildrenReply kids = await(s->children(p("q")));
  EXPECT_EQ(kids.stat.num_children, 4);
  EXPECT_EQ(kids.stat.cversion, 2 * 6 - 4);

  // Container nodes are created like persistent ones. The server keeps its container
  // marker in ephemeralOwner but shows clients 0.
  r = await(s->create(p("box"), "", CreateMode::Container));
  EXPECT_EQ(r.err, Error::Ok);
  EXPECT_EQ(r.stat.ephemeral_owner, 0);
  EXPECT_EQ(await(s->exists(p("box"))).stat.ephemeral_owner, 0);
}

TEST_F(LiveStore, TtlNodesAreCreatedAndExpireWhenChildless) {
  auto s = open();
  // A TTL needs a TTL mode, and a TTL mode needs a TTL.
  EXPECT_EQ(await(s->create(p("t0"), "", CreateMode::PersistentWithTtl, 0ms)).err,
            Error::BadArguments);
  EXPECT_EQ(await(s->create(p("t0"), "", CreateMode::Persistent, 1s)).err, Error::BadArguments);

  CreateReply r = await(s->create(p("ttl"), "x", CreateMode::PersistentWithTtl, 500ms));
  ASSERT_EQ(r.err, Error::Ok);
  // The server encodes the TTL in ephemeralOwner but shows clients 0.
  EXPECT_EQ(r.stat.ephemeral_owner, 0);
  EXPECT_EQ(await(s->exists(p("ttl"))).stat.ephemeral_owner, 0);
  r = await(s->create(p("ttlseq-"), "", CreateMode::PersistentSequentialWithTtl, 500ms));
  ASSERT_EQ(r.err, Error::Ok);
  EXPECT_EQ(r.path, p("ttlseq-0000000001"));
  std::string seq = r.path;

  // Expiry runs on the server's check interval (500 ms here) once the TTL has passed
  // without a modification.
  auto deadline = EventLoop::Clock::now() + 15s;
  bool gone = false;
  while (!gone && EventLoop::Clock::now() < deadline) {
    idle(200ms);
    gone = await(s->exists(p("ttl"))).err == Error::NoNode &&
           await(s->exists(seq)).err == Error::NoNode;
  }
  EXPECT_TRUE(gone) << "TTL nodes still there after 15 s";
}

TEST_F(LiveStore, VersionsAndBadVersion) {
  auto s = open();
  ASSERT_EQ(await(s->create(p("v"), "a", CreateMode::Persistent)).err, Error::Ok);
  SetReply w = await(s->set(p("v"), "bb", 0));
  ASSERT_EQ(w.err, Error::Ok);
  EXPECT_EQ(w.stat.version, 1);
  EXPECT_EQ(w.stat.data_length, 2);
  EXPECT_GT(w.stat.mzxid, w.stat.czxid);
  EXPECT_EQ(await(s->set(p("v"), "c", 0)).err, Error::BadVersion);
  EXPECT_EQ(await(s->set(p("v"), "c", -1)).stat.version, 2);
  EXPECT_EQ(await(s->set(p("nope"), "c", -1)).err, Error::NoNode);

  GetReply g = await(s->get(p("v")));
  EXPECT_EQ(g.err, Error::Ok);
  EXPECT_EQ(g.data, "c");
  EXPECT_EQ(g.stat.version, 2);
  EXPECT_FALSE(g.watch.valid());
  EXPECT_EQ(await(s->get(p("nope"))).err, Error::NoNode);

  ASSERT_EQ(await(s->create(p("v/kid"), "", CreateMode::Persistent)).err, Error::Ok);
  EXPECT_EQ(await(s->remove(p("v"), 2)), Error::NotEmpty);
  EXPECT_EQ(await(s->remove(p("v/kid"), 3)), Error::BadVersion);
  EXPECT_EQ(await(s->remove(p("v/kid"), 0)), Error::Ok);
  EXPECT_EQ(await(s->remove(p("v"), 1)), Error::BadVersion);
  EXPECT_EQ(await(s->remove(p("v"), 2)), Error::Ok);
  EXPECT_EQ(await(s->remove(p("v"))), Error::NoNode);
  // A check of the version of a missing node is NoNode, not BadVersion.
  EXPECT_EQ(await(s->set(p("v"), "", 7)).err, Error::NoNode);
}

TEST_F(LiveStore, EmptyDataReadsBackEmpty) {
  auto s = open();
  ASSERT_EQ(await(s->create(p("e"), "", CreateMode::Persistent)).err, Error::Ok);
  GetReply g = await(s->get(p("e")));
  EXPECT_EQ(g.data, "");
  EXPECT_EQ(g.stat.data_length, 0);
  std::string binary("a\0b", 3);
  ASSERT_EQ(await(s->set(p("e"), binary)).err, Error::Ok);
  EXPECT_EQ(await(s->get(p("e"))).data, binary);
}

TEST_F(LiveStore, GetWatchFiresOnceOnDataChange) {
  auto s = open();
  ASSERT_EQ(await(s->create(p("w"), "0", CreateMode::Persistent)).err, Error::Ok);
  GetReply g = await(s->get(p("w"), true));
  ASSERT_EQ(g.err, Error::Ok);
  ASSERT_TRUE(g.watch.valid());
  idle(100ms);
  EXPECT_FALSE(g.watch.ready());
  EXPECT_EQ(s->live_contexts(), 1u);
  // Another session's writes trigger it.
  ASSERT_EQ(await(admin_->set(p("w"), "1")).err, Error::Ok);
  WatchEvent ev = await(g.watch);
  EXPECT_EQ(ev.type, WatchEventType::DataChanged);
  EXPECT_EQ(ev.path, p("w"));
  EXPECT_EQ(ev.state, SessionState::Connected);
  // One-shot: the client has let go of the watcher.
  EXPECT_EQ(s->live_contexts(), 0u);
  ASSERT_EQ(await(admin_->set(p("w"), "2")).err, Error::Ok);

  // Delete fires a data watch as Deleted; a get on a missing node leaves no watch.
  g = await(s->get(p("w"), true));
  ASSERT_EQ(await(admin_->remove(p("w"))), Error::Ok);
  EXPECT_EQ(await(g.watch).type, WatchEventType::Deleted);
  GetReply missing = await(s->get(p("w"), true));
  EXPECT_EQ(missing.err, Error::NoNode);
  EXPECT_FALSE(missing.watch.valid());
  EXPECT_EQ(s->live_contexts(), 0u);
}

TEST_F(LiveStore, ExistsWatchesCreationAndDeletion) {
  auto s = open();
  ExistsReply e = await(s->exists(p("x"), true));
  EXPECT_EQ(e.err, Error::NoNode);
  ASSERT_TRUE(e.watch.valid());
  ASSERT_EQ(await(admin_->create(p("x"), "", CreateMode::Persistent)).err, Error::Ok);
  WatchEvent ev = await(e.watch);
  EXPECT_EQ(ev.type, WatchEventType::Created);
  EXPECT_EQ(ev.path, p("x"));

  e = await(s->exists(p("x"), true));
  EXPECT_EQ(e.err, Error::Ok);
  ASSERT_TRUE(e.watch.valid());
  EXPECT_EQ(e.stat.version, 0);
  ASSERT_EQ(await(admin_->set(p("x"), "d")).err, Error::Ok);
  EXPECT_EQ(await(e.watch).type, WatchEventType::DataChanged);

  e = await(s->exists(p("x"), true));
  ASSERT_EQ(await(admin_->remove(p("x"))), Error::Ok);
  EXPECT_EQ(await(e.watch).type, WatchEventType::Deleted);

  // Two watches on one path from one session: each gets the event once.
  ExistsReply a = await(s->exists(p("y"), true));
  ExistsReply b = await(s->exists(p("y"), true));
  ASSERT_EQ(await(admin_->create(p("y"), "", CreateMode::Persistent)).err, Error::Ok);
  EXPECT_EQ(await(a.watch).type, WatchEventType::Created);
  EXPECT_EQ(await(b.watch).type, WatchEventType::Created);
  EXPECT_EQ(s->live_contexts(), 0u);
}

TEST_F(LiveStore, ChildrenWatchFiresOnChildChangeAndParentDeletion) {
  auto s = open();
  ASSERT_EQ(await(s->create(p("dir"), "", CreateMode::Persistent)).err, Error::Ok);
  ChildrenReply c = await(s->children(p("dir"), true));
  ASSERT_EQ(c.err, Error::Ok);
  EXPECT_TRUE(c.children.empty());
  ASSERT_EQ(await(admin_->create(p("dir/a"), "", CreateMode::Persistent)).err, Error::Ok);
  WatchEvent ev = await(c.watch);
  EXPECT_EQ(ev.type, WatchEventType::ChildrenChanged);
  EXPECT_EQ(ev.path, p("dir"));

  // Data changes of the parent or of a child do not fire a children watch.
  c = await(s->children(p("dir"), true));
  EXPECT_EQ(c.children, std::vector<std::string>{"a"});
  ASSERT_EQ(await(admin_->set(p("dir"), "z")).err, Error::Ok);
  ASSERT_EQ(await(admin_->set(p("dir/a"), "z")).err, Error::Ok);
  idle(200ms);
  EXPECT_FALSE(c.watch.ready());
  ASSERT_EQ(await(admin_->remove(p("dir/a"))), Error::Ok);
  EXPECT_EQ(await(c.watch).type, WatchEventType::ChildrenChanged);

  c = await(s->children(p("dir"), true));
  ASSERT_EQ(await(admin_->remove(p("dir"))), Error::Ok);
  EXPECT_EQ(await(c.watch).type, WatchEventType::Deleted);

  ChildrenReply missing = await(s->children(p("dir"), true));
  EXPECT_EQ(missing.err, Error::NoNode);
  EXPECT_FALSE(missing.watch.valid());
  EXPECT_EQ(s->live_contexts(), 0u);
}

TEST_F(LiveStore, WatchEventArrivesBeforeTheReadThatFollowsIt) {
  // The notification and the next reply travel on one connection in server order.
  auto s = open();
  ASSERT_EQ(await(s->create(p("o"), "0", CreateMode::Persistent)).err, Error::Ok);
  GetReply g = await(s->get(p("o"), true));
  ASSERT_EQ(await(admin_->set(p("o"), "1")).err, Error::Ok);
  Future<GetReply> after = s->get(p("o"));
  bool watch_first = false;
  loop_.run_until([&] {
    if (g.watch.ready() && !after.ready()) watch_first = true;
    return after.ready();
  });
  EXPECT_TRUE(watch_first);
  EXPECT_EQ(after.get().data, "1");
}

TEST_F(LiveStore, MultiIsAtomicWithPerOpResults) {
  auto s = open();
  ASSERT_EQ(await(s->create(p("m"), "0", CreateMode::Persistent)).err, Error::Ok);
  MultiReply ok = await(s->multi({
      Op::create(p("m/a"), "a", CreateMode::Persistent),
      Op::create(p("m/s-"), "", CreateMode::PersistentSequential),
      Op::check(p("m"), 0),
      Op::set(p("m"), "1", 0),
      Op::remove(p("m/a"), 0),
  }));
  ASSERT_EQ(ok.err, Error::Ok);
  ASSERT_EQ(ok.results.size(), 5u);
  for (auto& r : ok.results) EXPECT_EQ(r.err, Error::Ok);
  EXPECT_EQ(ok.results[0].path, p("m/a"));
  EXPECT_EQ(ok.results[1].path, p("m/s-0000000001"));
  EXPECT_EQ(ok.results[3].stat.version, 1);
  // The C client's multi create carries no Stat.
  EXPECT_EQ(ok.results[0].stat, Stat{});

  MultiReply bad = await(s->multi({
      Op::create(p("m/b"), "", CreateMode::Persistent),
      Op::check(p("m"), 0),  // stale: the set above made it 1
      Op::set(p("m"), "2"),
  }));
  EXPECT_EQ(bad.err, Error::BadVersion);
  ASSERT_EQ(bad.results.size(), 3u);
  EXPECT_EQ(bad.results[0].err, Error::Ok);
  EXPECT_EQ(bad.results[1].err, Error::BadVersion);
  EXPECT_EQ(bad.results[2].err, Error::RuntimeInconsistency);
  EXPECT_EQ(bad.results[0].path, "");
  // Nothing applied.
  EXPECT_EQ(await(s->exists(p("m/b"))).err, Error::NoNode);
  EXPECT_EQ(await(s->get(p("m"))).data, "1");

  MultiReply missing = await(s->multi({Op::remove(p("m/zz")), Op::create(p("m/c"), "", {})}));
  EXPECT_EQ(missing.err, Error::NoNode);
  ASSERT_EQ(missing.results.size(), 2u);
  EXPECT_EQ(missing.results[0].err, Error::NoNode);
  EXPECT_EQ(missing.results[1].err, Error::RuntimeInconsistency);

  MultiReply empty = await(s->multi({}));
  EXPECT_EQ(empty.err, Error::Ok);
  EXPECT_TRUE(empty.results.empty());

  // The same create twice in one multi: the second sees the first.
  MultiReply twice = await(s->multi({Op::create(p("m/d"), "", {}), Op::create(p("m/d"), "", {})}));
  EXPECT_EQ(twice.err, Error::NodeExists);
  EXPECT_EQ(twice.results[1].err, Error::NodeExists);

  // Ephemerals in a multi belong to the session.
  MultiReply eph = await(s->multi({Op::create(p("m/e"), "", CreateMode::Ephemeral)}));
  ASSERT_EQ(eph.err, Error::Ok);
  EXPECT_EQ(await(admin_->exists(p("m/e"))).stat.ephemeral_owner, s->id());
}

TEST_F(LiveStore, TtlCreateIsRefusedInsideMulti) {
  // The C client cannot encode a TTL create in a multi: it refuses the whole request
  // with Unimplemented before sending anything.
  auto s = open();
  MultiReply r = await(s->multi({Op::create(p("a"), "", CreateMode::Persistent),
                                 Op::create(p("t"), "", CreateMode::PersistentWithTtl)}));
  EXPECT_EQ(r.err, Error::Unimplemented);
  EXPECT_TRUE(r.results.empty());
  EXPECT_EQ(await(s->exists(p("a"))).err, Error::NoNode);
  EXPECT_EQ(await(s->exists(p("t"))).err, Error::NoNode);
}

TEST_F(LiveStore, CloseRemovesEphemeralsAndEndsWatches) {
  auto s = open();
  ASSERT_EQ(await(s->create(p("mine"), "", CreateMode::Ephemeral)).err, Error::Ok);
  ASSERT_EQ(await(s->create(p("other"), "", CreateMode::Persistent)).err, Error::Ok);
  ExistsReply theirs = await(admin_->exists(p("mine"), true));
  ASSERT_EQ(theirs.err, Error::Ok);
  GetReply pending = await(s->get(p("other"), true));
  ASSERT_TRUE(pending.watch.valid());

  Future<SessionEvent> ev = s->next_event();
  Future<SessionState> ended = s->ended();
  await(s->close());
  EXPECT_EQ(s->state(), SessionState::Closed);
  EXPECT_EQ(ev.get(), SessionEvent::Closed);
  EXPECT_EQ(ended.get(), SessionState::Closed);
  // The pending watch of the closed session ends; the other session sees the delete.
  ASSERT_TRUE(pending.watch.ready());
  EXPECT_EQ(pending.watch.get().type, WatchEventType::SessionEnded);
  EXPECT_EQ(pending.watch.get().state, SessionState::Closed);
  EXPECT_EQ(await(theirs.watch).type, WatchEventType::Deleted);
  EXPECT_EQ(await(admin_->exists(p("mine"))).err, Error::NoNode);
  // Everything after close is refused with Closing; close again is harmless.
  EXPECT_EQ(await(s->get(p("other"))).err, Error::Closing);
  EXPECT_EQ(await(s->create(p("x"), "", CreateMode::Persistent)).err, Error::Closing);
  await(s->close());
  settle_contexts(*s);
  EXPECT_EQ(s->live_contexts(), 0u);
}

TEST_F(LiveStore, DroppedSessionIsReleasedAndItsEphemeralsGo) {
  std::weak_ptr<Session> weak;
  {
    ConnectReply c = await(store_->connect(env_, 6s));
    ASSERT_EQ(c.err, Error::Ok);
    weak = c.session;
    ASSERT_EQ(await(c.session->create(p("left"), "", CreateMode::Ephemeral)).err, Error::Ok);
    GetReply g = await(c.session->get(base_, true));
    ASSERT_TRUE(g.watch.valid());
  }
  // Nothing but the caller may keep a session alive; dropping it closes it.
  EXPECT_TRUE(weak.expired());
  EXPECT_EQ(await(admin_->exists(p("left"))).err, Error::NoNode);
}

TEST_F(LiveStore, RequestsInFlightAtCloseAreAnsweredAndTheSessionEnds) {
  // Raw zookeeper_close with requests in flight fails them all with Closing, and a
  // handle that is reconnecting never tells the server: the session and its ephemerals
  // outlive the close. The adapter's close must do neither.
  for (int round = 0; round < 5; ++round) {
    auto s = open();
    std::vector<Future<CreateReply>> creates;
    for (int i = 0; i < 50; ++i)
      creates.push_back(s->create(p("f-"), "", CreateMode::EphemeralSequential));
    await(s->close());
    for (auto& f : creates) {
      ASSERT_TRUE(f.ready()) << "a request was never answered";
      EXPECT_EQ(f.get().err, Error::Ok);
    }
    EXPECT_TRUE(await(admin_->children(base_)).children.empty()) << "round " << round;
  }
}

TEST_F(LiveStore, ForcedExpiryEndsTheSessionAndItsWatches) {
  auto s = open(4s);
  ASSERT_EQ(await(s->create(p("lock"), "", CreateMode::Ephemeral)).err, Error::Ok);
  ASSERT_EQ(await(s->create(p("data"), "", CreateMode::Persistent)).err, Error::Ok);
  ASSERT_EQ(await(s->create(p("dir"), "", CreateMode::Persistent)).err, Error::Ok);
  GetReply g = await(s->get(p("data"), true));
  ExistsReply e = await(s->exists(p("absent"), true));
  // Not on base_: the expiry deletes p("lock"), and the session's own watches can hear
  // of that (ChildrenChanged) while its connection is still up.
  ChildrenReply c = await(s->children(p("dir"), true));
  ExistsReply theirs = await(admin_->exists(p("lock"), true));

  std::vector<SessionEvent> events;
  Future<SessionEvent> next = s->next_event();
  Future<SessionState> ended = s->ended();
  Future<Error> expired = s->expire();
  auto deadline = EventLoop::Clock::now() + 20s;
  loop_.run_until(
      [&] {
        if (next.ready()) {
          events.push_back(next.get());
          next = s->next_event();
        }
        return ended.ready() && expired.ready();
      },
      deadline);
  ASSERT_TRUE(expired.ready());
  EXPECT_EQ(expired.get(), Error::Ok);
  ASSERT_TRUE(ended.ready());
  EXPECT_EQ(ended.get(), SessionState::Expired);
  EXPECT_EQ(s->state(), SessionState::Expired);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back(), SessionEvent::Expired);
  // The ephemeral went with the session (seen by another session's watch).
  EXPECT_EQ(await(theirs.watch).type, WatchEventType::Deleted);
  EXPECT_EQ(await(admin_->exists(p("lock"))).err, Error::NoNode);
  // Each watch the session held learns it will never fire.
  for (const Future<WatchEvent>* w : {&g.watch, &e.watch, &c.watch}) {
    WatchEvent ev = await(*w);
    EXPECT_EQ(ev.type, WatchEventType::SessionEnded);
    EXPECT_EQ(ev.state, SessionState::Expired);
  }
  EXPECT_EQ(await(s->get(p("data"))).err, Error::SessionExpired);
  EXPECT_TRUE(s->close().ready());
  EXPECT_EQ(s->state(), SessionState::Expired);
  settle_contexts(*s);
  EXPECT_EQ(s->live_contexts(), 0u);
}

TEST_F(LiveStore, ExpireSessionOfAnotherProcessById) {
  auto s = open(4s);
  ASSERT_EQ(await(s->create(p("lock"), "", CreateMode::Ephemeral)).err, Error::Ok);
  ExistsReply theirs = await(admin_->exists(p("lock"), true));
  // The blocking form, as a runner would call it with an id it was handed.
  EXPECT_EQ(expire_session(zk_address(), s->client_id()), Error::Ok);
  EXPECT_EQ(await(theirs.watch).type, WatchEventType::Deleted);
  EXPECT_EQ(await(s->ended(), 20s), SessionState::Expired);
  // A session that is already gone cannot be attached to.
  EXPECT_EQ(expire_session(zk_address(), s->client_id(), 5s), Error::SessionExpired);
  ZkClientId nobody{s->client_id().id, std::string(16, 'x')};
  EXPECT_NE(expire_session(zk_address(), nobody, 5s), Error::Ok);
}

TEST_F(LiveStore, SuspendedThenReconnectedKeepsSessionAndWatches) {
  Relay relay(zk_address());
  ZkStore via(relay.address());
  auto s = open(6s, &via);
  ASSERT_EQ(await(s->create(p("e"), "", CreateMode::Ephemeral)).err, Error::Ok);
  ASSERT_EQ(await(s->create(p("d"), "", CreateMode::Persistent)).err, Error::Ok);
  GetReply g = await(s->get(p("d"), true));
  int64_t id = s->id();

  Future<SessionEvent> first = s->next_event();
  relay.cut(true);
  EXPECT_EQ(await(first), SessionEvent::Suspended);
  EXPECT_EQ(s->state(), SessionState::Suspended);
  // While suspended: requests fail with ConnectionLoss (or wait for the reconnection).
  Future<SessionEvent> second = s->next_event();
  // A change made meanwhile is still reported once the watch is re-registered.
  ASSERT_EQ(await(admin_->set(p("d"), "while-away")).err, Error::Ok);
  relay.allow();
  EXPECT_EQ(await(second, 20s), SessionEvent::Reconnected);
  EXPECT_EQ(s->state(), SessionState::Connected);
  EXPECT_EQ(s->id(), id);
  EXPECT_EQ(await(g.watch).type, WatchEventType::DataChanged);
  EXPECT_EQ(await(admin_->exists(p("e"))).stat.ephemeral_owner, id);
  EXPECT_FALSE(s->ended().ready());
  // Closed while the relay still runs: close makes sure through the same address that
  // the session is gone, and would wait for it otherwise.
  await(s->close());
}

TEST_F(LiveStore, RequestDuringDisconnectFailsWithConnectionLoss) {
  Relay relay(zk_address());
  ZkStore via(relay.address());
  auto s = open(6s, &via);
  Future<SessionEvent> ev = s->next_event();
  relay.cut(true);
  EXPECT_EQ(await(ev), SessionEvent::Suspended);
  Future<CreateReply> r = s->create(p("during"), "", CreateMode::Persistent);
  Future<SessionEvent> back = s->next_event();
  idle(300ms);
  relay.allow();
  CreateReply got = await(r, 20s);
  // The C client fails requests made while disconnected once its connect attempt fails,
  // or sends them after reconnecting: both are ZooKeeper.
  EXPECT_TRUE(got.err == Error::ConnectionLoss || got.err == Error::Ok) << error_name(got.err);
  RecordProperty("create_while_suspended", std::string(error_name(got.err)));
  await(back, 20s);
  await(s->close());
}

TEST_F(LiveStore, PartitionLongerThanTimeoutExpiresOnReconnect) {
  Relay relay(zk_address());
  ZkStore via(relay.address());
  auto s = open(4s, &via);
  ASSERT_EQ(await(s->create(p("lock"), "", CreateMode::Ephemeral)).err, Error::Ok);
  ExistsReply theirs = await(admin_->exists(p("lock"), true));
  GetReply mine = await(s->get(p("lock"), true));
  Future<SessionEvent> ev = s->next_event();
  relay.cut(true);
  EXPECT_EQ(await(ev), SessionEvent::Suspended);
  // The server expires the session on its own clock; the ephemeral goes.
  EXPECT_EQ(await(theirs.watch, 20s).type, WatchEventType::Deleted);
  idle(500ms);
  // The client still believes in its session until it reconnects.
  EXPECT_EQ(s->state(), SessionState::Suspended);
  EXPECT_FALSE(mine.watch.ready());
  Future<SessionEvent> next = s->next_event();
  relay.allow();
  EXPECT_EQ(await(next, 20s), SessionEvent::Expired);
  EXPECT_EQ(await(s->ended()), SessionState::Expired);
  EXPECT_EQ(await(mine.watch).type, WatchEventType::SessionEnded);
}

// Session::abandon, as Curator's injectSessionExpiration: a handle that is reconnecting
// is given up without a closeSession, so the server keeps the session and its ephemeral
// until the timeout lapses there. A connected handle would send one: refused.
TEST_F(LiveStore, AnAbandonedSessionLivesOnTheServerUntilItExpiresThere) {
  Relay relay(zk_address());
  ZkStore via(relay.address());
  auto s = open(4s, &via);
  EXPECT_EQ(s->abandon(), Error::InvalidState);
  ASSERT_EQ(await(s->create(p("lock"), "", CreateMode::Ephemeral)).err, Error::Ok);
  const int64_t id = s->id();
  GetReply mine = await(s->get(p("lock"), true));
  ExistsReply theirs = await(admin_->exists(p("lock"), true));
  Future<SessionEvent> ev = s->next_event();
  relay.cut(true);
  EXPECT_EQ(await(ev), SessionEvent::Suspended);
  Future<SessionEvent> next = s->next_event();
  EXPECT_EQ(s->abandon(), Error::Ok);
  EXPECT_EQ(s->state(), SessionState::Expired);
  EXPECT_EQ(await(next), SessionEvent::Expired);
  EXPECT_EQ(await(s->ended()), SessionState::Expired);
  EXPECT_EQ(await(mine.watch).type, WatchEventType::SessionEnded);
  EXPECT_EQ(await(s->exists(p("lock"))).err, Error::SessionExpired);
  EXPECT_EQ(s->abandon(), Error::SessionExpired);
  idle(1s);
  // Not told: the node is there, still the old session's, while its timeout runs.
  EXPECT_EQ(await(admin_->exists(p("lock"))).stat.ephemeral_owner, id);
  EXPECT_FALSE(theirs.watch.ready());
  EXPECT_EQ(await(theirs.watch, 20s).type, WatchEventType::Deleted);
}

TEST_F(LiveStore, ChrootIsCreatedAndHidden) {
  std::string root = base_ + "/chroot";
  ZkStore chrooted(std::string(zk_address()) + root);
  EXPECT_EQ(chrooted.chroot(), root);
  EXPECT_EQ(run_task(env_, chrooted.ensure_chroot(env_), 30s), Error::Ok);
  auto s = open(6s, &chrooted);
  CreateReply r = await(s->create("/n-", "", CreateMode::PersistentSequential));
  ASSERT_EQ(r.err, Error::Ok);
  EXPECT_EQ(r.path, "/n-0000000000");
  ExistsReply e = await(s->exists("/w", true));
  ASSERT_EQ(await(admin_->create(root + "/w", "", CreateMode::Persistent)).err, Error::Ok);
  EXPECT_EQ(await(e.watch).path, "/w");
  MultiReply m = await(s->multi({Op::create("/s-", "", CreateMode::PersistentSequential)}));
  ASSERT_EQ(m.err, Error::Ok);
  EXPECT_EQ(m.results[0].path, "/s-0000000002");
  EXPECT_EQ(await(admin_->exists(root + "/n-0000000000")).err, Error::Ok);
}

TEST(LiveEnvTest, TimersAndSpawnRunOnTheLoop) {
  EventLoop loop;
  LiveEnv env(loop, 3, 42);
  EXPECT_EQ(env.client_index(), 3);
  LiveEnv same(loop, 3, 42);
  EXPECT_EQ(env.random64(), same.random64());
  Time start = env.now();
  std::vector<int> order;
  auto body = [&](int tag, Duration d) -> Task<void> {
    co_await env.sleep_for(d);
    EXPECT_EQ(current_executor(), &loop);
    order.push_back(tag);
  };
  env.spawn(body(2, 60ms));
  env.spawn(body(1, 20ms));
  env.spawn(body(0, 0ms));
  loop.run_until([&] { return order.size() == 3; }, EventLoop::Clock::now() + 5s);
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
  EXPECT_GE(env.now() - start, 60ms);
  env.rethrow_failures();

  // Posts from another thread are run on the loop, in order.
  std::vector<int> seen;
  std::thread t([&] {
    for (int i = 0; i < 100; ++i) loop.post([&, i] { seen.push_back(i); });
  });
  t.join();
  loop.run_ready();
  ASSERT_EQ(seen.size(), 100u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));

  // run_task returns the value and rethrows.
  auto value = [&]() -> Task<int> {
    co_await env.sleep_for(1ms);
    co_return 7;
  };
  EXPECT_EQ(run_task(env, value()), 7);
  auto boom = [&]() -> Task<int> {
    co_await env.sleep_for(1ms);
    throw std::runtime_error("boom");
  };
  EXPECT_THROW(run_task(env, boom()), std::runtime_error);
  auto slow = [&]() -> Task<void> { co_await env.sleep_for(10s); };
  EXPECT_THROW(run_task(env, slow(), 50ms), TaskTimeout);

  uint64_t id = loop.add_timer(EventLoop::Clock::now() + 10ms, [] { FAIL(); });
  EXPECT_TRUE(loop.cancel_timer(id));
  EXPECT_FALSE(loop.cancel_timer(id));
  loop.run_until([] { return false; }, EventLoop::Clock::now() + 30ms);
}

}  // namespace
}  // namespace lockstep::real
