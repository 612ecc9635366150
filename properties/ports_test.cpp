// The four ports of issue 7 (zk-ttl, etcd-session and local, redlock, lease-fenced) in
// the simulator without faults: each library's documented API and its behaviour as the
// library really behaves, holes included (errors, timeouts, owner keys, TTL purges by a
// waiter's clock, extend / valid / until, the warn signal, tokens).
//
// Most tests drive the Lock objects directly in a small world of their own (PortsWorld:
// N independent ZooKeeper servers, each with its own clock, and client processes); a
// few run whole scenarios through sim::run_scenario.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/check/checker.h"
#include "core/lock.h"
#include "core/locks/etcd_session.h"
#include "core/locks/lease_fenced.h"
#include "core/locks/local_lock.h"
#include "core/locks/redlock.h"
#include "core/locks/zk_ttl.h"
#include "core/renewing_session.h"
#include "core/shared_registry.h"
#include "sim/network.h"
#include "sim/process.h"
#include "sim/run.h"
#include "sim/scenario.h"
#include "sim/world.h"
#include "sim/zk/client.h"
#include "sim/zk/server.h"

namespace lockstep {
namespace {

using namespace std::chrono_literals;
using sim::Process;
using sim::SimStore;
using sim::ZkServer;

// A world of `stores` independent simulated ZooKeeper servers (each its own process,
// with its own clock) and `clients` client processes, plus the registry the runtime
// shares among them.
class PortsWorld {
 public:
  explicit PortsWorld(int clients, int stores = 1, uint64_t seed = 1)
      : world_(seed), network_(world_, sim::NetworkSpec{}) {
    for (int s = 0; s < stores; ++s) {
      const std::string name = "store " + std::to_string(s);
      server_procs_.push_back(
          std::make_unique<Process>(world_, -1, name, 7 + static_cast<uint64_t>(s)));
      servers_.push_back(std::make_unique<ZkServer>(world_, network_, *server_procs_.back(),
                                                    sim::ServerSpec{}, name, s));
      servers_.back()->start();
      stores_.push_back(std::make_unique<SimStore>(network_, *servers_.back(), &stats_));
    }
    for (int i = 0; i < clients; ++i)
      clients_.push_back(std::make_unique<Process>(world_, i, "client " + std::to_string(i),
                                                   100 + static_cast<uint64_t>(i)));
  }
  ~PortsWorld() { clients_.clear(); }

  Process& client(int i) { return *clients_[static_cast<size_t>(i)]; }
  Process& server_process(int s) { return *server_procs_[static_cast<size_t>(s)]; }
  ZkServer& server(int s = 0) { return *servers_[static_cast<size_t>(s)]; }
  Store& store(int s = 0) { return *stores_[static_cast<size_t>(s)]; }
  int stores() const { return static_cast<int>(stores_.size()); }
  SharedRegistry& shared() { return registry_; }
  // Runs `t` on client i; what it throws fails the test.
  void spawn(int i, Task<void> t) { client(i).spawn(guarded(std::move(t))); }
  void run_until(Duration t) { world_.run(Time(t), nullptr); }
  double now_s() const { return static_cast<double>(world_.now().count()) / 1e9; }

  // The lock path's children on store s, by name (sorted).
  std::vector<std::string> children(const std::string& path, int s = 0) {
    ChildList names = server(s).tree().children(0, path, false).children;
    return names ? names->to_vector() : std::vector<std::string>{};
  }
  ReadResult node(const std::string& path, int s = 0) {
    return server(s).tree().get(0, path, false);
  }
  // A redlock key's current incarnation on store s: its lowest child; empty if none.
  std::string redlock_incarnation(const std::string& key, int s = 0) {
    std::vector<std::string> kids = children(key, s);
    if (kids.empty()) return {};
    return key + "/" + *std::min_element(kids.begin(), kids.end());
  }
  // What a GET of that key answers on store s: its value, or NoNode.
  ReadResult redlock_key(const std::string& key, int s = 0) {
    std::string at = redlock_incarnation(key, s);
    if (at.empty()) {
      ReadResult none;
      none.err = Error::NoNode;
      return none;
    }
    return node(at, s);
  }

 private:
  static Task<void> guarded(Task<void> t) {
    try {
      co_await std::move(t);
    } catch (const OptionError& e) {
      ADD_FAILURE() << "option " << e.key << " " << e.problem;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "threw " << e.what();
    }
  }

  sim::World world_;
  sim::Network network_;
  sim::ClientStats stats_;
  std::vector<std::unique_ptr<Process>> server_procs_;
  std::vector<std::unique_ptr<ZkServer>> servers_;
  std::vector<std::unique_ptr<SimStore>> stores_;
  SharedRegistry registry_;
  std::vector<std::unique_ptr<Process>> clients_;
};

const std::string kPath = "/locks/a";

Task<std::shared_ptr<Session>> open_session(Store& store, Env& env) {
  ConnectReply c = co_await store.connect(env, 4s);
  EXPECT_EQ(c.err, Error::Ok);
  co_return c.session;
}

// A LockContext for client `i` of `algorithm` with one session on each of the world's
// stores; the options are checked against the algorithm's catalogue entry (OptionError).
Task<LockContext> context(PortsWorld* w, const char* algorithm, int i,
                          std::map<std::string, std::string> options) {
  LockContext ctx;
  ctx.env = &w->client(i);
  ctx.path = kPath;
  ctx.options = resolve_algorithm(algorithm).validate(Options(std::move(options)));
  ctx.shared = &w->shared();
  for (int s = 0; s < w->stores(); ++s)
    ctx.sessions.push_back(co_await open_session(w->store(s), w->client(i)));
  co_return ctx;
}

// Options as "key=value,key=value": coroutine bodies here avoid braced lists of string
// literals, which GCC 12 miscompiles inside coroutines ("array used as initializer").
std::map<std::string, std::string> opts(const std::string& spec) {
  std::map<std::string, std::string> out;
  size_t start = 0;
  while (start < spec.size()) {
    size_t end = spec.find(',', start);
    if (end == std::string::npos) end = spec.size();
    std::string item = spec.substr(start, end - start);
    size_t eq = item.find('=');
    out[item.substr(0, eq)] = item.substr(eq + 1);
    start = end + 1;
  }
  return out;
}

Task<LockContext> context(PortsWorld* w, const char* algorithm, int i, const char* spec) {
  return context(w, algorithm, i, opts(spec));
}

Task<void> sleep_until(Env& env, Duration t) { co_await env.timer_at(Time(t)); }

// --- zk-ttl --------------------------------------------------------------------------

TEST(ZkTtl, IdFromZnode) {
  using locks::zk_ttl_id_from_znode;
  EXPECT_EQ(zk_ttl_id_from_znode("lock-0000000005"), 5);
  EXPECT_EQ(zk_ttl_id_from_znode("/locks/a/_c_0123abcd-lock-0000000012"), 12);
  EXPECT_EQ(zk_ttl_id_from_znode("lock-+7"), 7);  // strconv.Atoi takes a sign
  EXPECT_EQ(zk_ttl_id_from_znode("junk"), std::nullopt);
  EXPECT_EQ(zk_ttl_id_from_znode("lock-"), std::nullopt);
  EXPECT_EQ(zk_ttl_id_from_znode("lock-12a"), std::nullopt);
}

struct ZkTtlBasics {
  AcquireResult got;
  std::vector<std::string> children_held;
  std::string data;
  ReleaseResult released;
  std::vector<std::string> children_after;
};

TEST(ZkTtl, ProtectedSequentialNodeWithTtlDeadline) {
  ZkTtlBasics out;
  PortsWorld w(1);
  w.spawn(0, [](PortsWorld* w, ZkTtlBasics* out) -> Task<void> {
    locks::ZkTtlLock lock(co_await context(w, "zk-ttl", 0, "ttl=2500"));
    EXPECT_EQ(lock.ttl(), 2500ms);
    out->got = co_await lock.acquire(w->client(0).now() + 5s);
    out->children_held = w->children(kPath);
    if (!out->children_held.empty()) out->data = w->node(kPath + "/" + out->children_held[0]).data;
    out->released = co_await lock.release();
    out->children_after = w->children(kPath);
  }(&w, &out));
  w.run_until(10s);

  ASSERT_TRUE(out.got.acquired) << out.got.error;
  EXPECT_FALSE(out.got.lease.token.has_value());
  EXPECT_FALSE(out.got.lease.lost.valid());  // session loss is never reported
  EXPECT_EQ(out.got.lease.node_sequence, std::optional<uint64_t>(0));
  ASSERT_EQ(out.children_held.size(), 1u);
  const std::string& name = out.children_held[0];
  // go-zk's protected name: "_c_" + 32 hex digits + "-lock-" + the sequence number.
  EXPECT_EQ(name.substr(0, 3), "_c_");
  EXPECT_EQ(name.substr(35), "-lock-0000000000");
  // {timestamp, ttl_deadline = timestamp + TTL, owner_id}: no owner is Go's "<nil>".
  auto field = [&](const std::string& key) {
    size_t at = out.data.find("\"" + key + "\":");
    EXPECT_NE(at, std::string::npos) << out.data;
    return std::stoll(out.data.substr(at + key.size() + 3));
  };
  EXPECT_EQ(field("ttl_deadline") - field("timestamp"), 2'500'000'000);
  EXPECT_NE(out.data.find("\"owner_id\":\"<nil>\""), std::string::npos) << out.data;
  EXPECT_TRUE(out.released.ok) << out.released.error;
  EXPECT_TRUE(out.children_after.empty());
}

struct OwnerOut {
  AcquireResult first, second;
  size_t children = 0;
  ReleaseResult by_other, by_owner, by_none_after;
};

TEST(ZkTtl, OwnerKeyAlreadyHasActiveLockAndNonOwnerUnlock) {
  OwnerOut out;
  PortsWorld w(1);
  w.spawn(0, [](PortsWorld* w, OwnerOut* out) -> Task<void> {
    locks::ZkTtlLock lock(co_await context(w, "zk-ttl", 0, "owner=alice"));
    Time deadline = w->client(0).now() + 5s;
    out->first = co_await lock.acquire(deadline);
    EXPECT_EQ(lock.owner(), std::optional<std::string>("alice"));
    out->second = co_await lock.acquire(deadline);  // same instance, same owner
    out->children = w->children(kPath).size();
    out->by_other = co_await lock.release_as("bob");
    out->by_owner = co_await lock.release();
    EXPECT_EQ(lock.owner(), std::nullopt);
    // A caller with an owner when the instance records none is no owner either.
    out->by_none_after = co_await lock.release_as("alice");
  }(&w, &out));
  w.run_until(10s);

  EXPECT_TRUE(out.first.acquired) << out.first.error;
  EXPECT_FALSE(out.second.acquired);
  EXPECT_EQ(out.second.error, locks::kZkTtlAlreadyOwn);
  EXPECT_EQ(out.children, 1u);  // the refused call created nothing
  EXPECT_FALSE(out.by_other.ok);
  EXPECT_EQ(out.by_other.error, locks::kZkTtlNotOwner);
  EXPECT_TRUE(out.by_owner.ok) << out.by_owner.error;
  EXPECT_FALSE(out.by_none_after.ok);
  EXPECT_EQ(out.by_none_after.error, locks::kZkTtlNotOwner);
}

struct TwoClients {
  AcquireResult a, b;
  double a_at = -1, b_at = -1, b_failed_at = -1;
  ReleaseResult a_released, b_released;
  double a_released_at = -1;
  std::vector<std::string> children_mid;
};

Task<void> zk_ttl_holder(PortsWorld* w, TwoClients* out, std::map<std::string, std::string> opts,
                         Duration hold) {
  locks::ZkTtlLock lock(co_await context(w, "zk-ttl", 0, opts));
  out->a = co_await lock.acquire(w->client(0).now() + 5s);
  out->a_at = w->now_s();
  co_await w->client(0).sleep_for(hold);
  out->a_released = co_await lock.release();
  out->a_released_at = w->now_s();
}

TEST(ZkTtl, WaiterTimesOutAndTakesItsNodeAway) {
  TwoClients out;
  PortsWorld w(2);
  w.spawn(0, zk_ttl_holder(&w, &out, {}, 5s));
  w.spawn(1, [](PortsWorld* w, TwoClients* out) -> Task<void> {
    locks::ZkTtlLock lock(co_await context(w, "zk-ttl", 1, ""));
    co_await sleep_until(w->client(1), 500ms);
    out->b = co_await lock.acquire(w->client(1).now() + 1s);
    out->b_failed_at = w->now_s();
    out->children_mid = w->children(kPath);
  }(&w, &out));
  w.run_until(10s);

  EXPECT_TRUE(out.a.acquired);
  EXPECT_FALSE(out.b.acquired);
  EXPECT_EQ(out.b.error, locks::kZkTtlTimedOut);
  EXPECT_NEAR(out.b_failed_at, 1.5, 0.05);
  EXPECT_EQ(out.children_mid.size(), 1u);  // the timed-out claim was deleted
  EXPECT_TRUE(out.a_released.ok);
}

// A waiter that arrives after the holder's TTL deadline deletes the holder's node and
// takes the lock while the holder, never told, still believes it holds. The holder's
// Unlock then fails three times, 125 ms apart.
TEST(ZkTtl, WaiterPurgesHolderPastItsTtl) {
  TwoClients out;
  PortsWorld w(2);
  w.spawn(0, zk_ttl_holder(&w, &out, {{"ttl", "500"}}, 3s));
  w.spawn(1, [](PortsWorld* w, TwoClients* out) -> Task<void> {
    locks::ZkTtlLock lock(co_await context(w, "zk-ttl", 1, "ttl=500"));
    co_await sleep_until(w->client(1), 1s);
    out->b = co_await lock.acquire(w->client(1).now() + 5s);
    out->b_at = w->now_s();
    out->children_mid = w->children(kPath);
    co_await sleep_until(w->client(1), 6s);
    out->b_released = co_await lock.release();
  }(&w, &out));
  w.run_until(10s);

  ASSERT_TRUE(out.a.acquired);
  ASSERT_TRUE(out.b.acquired) << out.b.error;
  // One pass (purge) then the 50 ms pause and the pass that finds itself first.
  EXPECT_NEAR(out.b_at, 1.05, 0.03);
  EXPECT_LT(out.b_at, out.a_released_at);  // both believed they held
  EXPECT_EQ(out.children_mid.size(), 1u);
  EXPECT_FALSE(out.a_released.ok);
  EXPECT_EQ(out.a_released.error,
            std::string(locks::kZkTtlUnlockingFailed) + "zk: node does not exist");
  // Three tries, each followed by a 125 ms sleep.
  EXPECT_NEAR(out.a_released_at, 3.0 + out.a_at + 0.375, 0.03);
  EXPECT_TRUE(out.b_released.ok);
}

// The deadline is written on the requester's clock and compared on the waiter's: a
// waiter whose clock runs 2 s ahead purges a holder well inside its 1 s TTL.
TEST(ZkTtl, PurgeIsDecidedByTheWaitersClock) {
  TwoClients out;
  PortsWorld w(2);
  w.client(1).clock().jump(Time(0), 2s);
  w.client(1).clock_changed();
  w.spawn(0, zk_ttl_holder(&w, &out, {{"ttl", "1000"}}, 3s));
  w.spawn(1, [](PortsWorld* w, TwoClients* out) -> Task<void> {
    locks::ZkTtlLock lock(co_await context(w, "zk-ttl", 1, "ttl=1000"));
    co_await w->client(1).sleep_for(200ms);
    out->b = co_await lock.acquire(w->client(1).now() + 5s);
    out->b_at = w->now_s();
  }(&w, &out));
  w.run_until(10s);

  ASSERT_TRUE(out.a.acquired);
  ASSERT_TRUE(out.b.acquired) << out.b.error;
  EXPECT_LT(out.b_at, 0.5);  // true time: the holder's TTL had 0.5 s and more to run
  EXPECT_FALSE(out.a_released.ok);
}

// The purge clears the lock state of the instance that purges, not of the one purged:
// goroutines sharing one ZooKeeperLock lose its record of the lock one of them holds.
struct PurgeRecordOut {
  AcquireResult alice, bob, other;
  std::optional<std::string> owner_mid;
  std::string znode_before, znode_mid;
  ReleaseResult alice_release, anon_release;
};

TEST(ZkTtl, PurgeClearsThePurgingInstancesRecord) {
  PurgeRecordOut out;
  PortsWorld w(2);
  auto shared = std::make_shared<std::unique_ptr<locks::ZkTtlLock>>();
  w.spawn(0,
          [](PortsWorld* w, PurgeRecordOut* out,
             std::shared_ptr<std::unique_ptr<locks::ZkTtlLock>> x) -> Task<void> {
            *x = std::make_unique<locks::ZkTtlLock>(co_await context(w, "zk-ttl", 0, "ttl=2000"));
            out->alice = co_await (*x)->acquire_as("alice", w->client(0).now() + 5s);
            out->znode_before = (*x)->lock_znode();
            co_await sleep_until(w->client(0), 1500ms);
            out->owner_mid = (*x)->owner();
            out->znode_mid = (*x)->lock_znode();
            out->alice_release = co_await (*x)->release_as("alice");
            out->anon_release = co_await (*x)->release_as(std::nullopt);
          }(&w, &out, shared));
  // Bob, a second goroutine on the same instance, queues behind client 1's claim.
  w.spawn(0,
          [](PortsWorld* w, PurgeRecordOut* out,
             std::shared_ptr<std::unique_ptr<locks::ZkTtlLock>> x) -> Task<void> {
            co_await sleep_until(w->client(0), 1s);
            out->bob = co_await (*x)->acquire_as("bob", w->client(0).now() + 300ms);
          }(&w, &out, shared));
  // Client 1 (no TTL, so its own deadline is its request time) waits behind alice.
  w.spawn(1, [](PortsWorld* w, PurgeRecordOut* out) -> Task<void> {
    locks::ZkTtlLock lock(co_await context(w, "zk-ttl", 1, ""));
    co_await sleep_until(w->client(1), 100ms);
    out->other = co_await lock.acquire(w->client(1).now() + 1s);
  }(&w, &out));
  w.run_until(10s);

  ASSERT_TRUE(out.alice.acquired) << out.alice.error;
  EXPECT_FALSE(out.znode_before.empty());
  // Bob purged client 1's expired claim, and with it his own instance's record of
  // alice's lock; alice's node itself (deadline 2 s) was left alone.
  EXPECT_EQ(out.owner_mid, std::nullopt);
  EXPECT_EQ(out.znode_mid, "");
  EXPECT_FALSE(out.bob.acquired);
  EXPECT_EQ(out.bob.error, locks::kZkTtlTimedOut);
  EXPECT_FALSE(out.other.acquired);  // its node was purged under it
  EXPECT_EQ(out.alice_release.error, locks::kZkTtlNotOwner);
  EXPECT_EQ(out.anon_release.error, std::string(locks::kZkTtlUnlockingFailed) + "zk: invalid path");
  (void)shared;
}

// One error on the way (here: the node ahead holds no JSON, so the TTL check fails) is
// never forgotten: five healthy passes later the waiter still gives up.
struct CounterOut {
  AcquireResult holder, waiter;
  double waiter_failed_at = -1;
};

TEST(ZkTtl, ErrorCounterIsNeverReset) {
  CounterOut out;
  PortsWorld w(2);
  w.spawn(0, [](PortsWorld* w, CounterOut* out) -> Task<void> {
    LockContext ctx = co_await context(w, "zk-ttl", 0, "ttl=10000");
    std::shared_ptr<Session> session = ctx.sessions[0];
    locks::ZkTtlLock lock(std::move(ctx));
    out->holder = co_await lock.acquire(w->client(0).now() + 5s);
    const std::string node = lock.lock_znode();
    const std::string valid = w->node(node).data;
    co_await sleep_until(w->client(0), 500ms);
    co_await session->set(node, "junk", -1);
    co_await sleep_until(w->client(0), 1020ms);
    co_await session->set(node, valid, -1);
    // Each change of the node ahead wakes the waiter for one more (healthy) pass.
    for (int k = 0; k < 5; ++k) {
      co_await sleep_until(w->client(0), 1200ms + k * 200ms);
      co_await session->set(node, valid, -1);
    }
  }(&w, &out));
  w.spawn(1, [](PortsWorld* w, CounterOut* out) -> Task<void> {
    locks::ZkTtlLock lock(co_await context(w, "zk-ttl", 1, "ttl=10000"));
    co_await sleep_until(w->client(1), 1s);
    out->waiter = co_await lock.acquire(w->client(1).now() + 10s);
    out->waiter_failed_at = w->now_s();
  }(&w, &out));
  w.run_until(15s);

  ASSERT_TRUE(out.holder.acquired);
  EXPECT_FALSE(out.waiter.acquired);
  EXPECT_EQ(out.waiter.error, std::string(locks::kZkTtlLockingFailed) +
                                  "attempt to expire lock failed: invalid character 'j' "
                                  "looking for beginning of value");
  // Pass 1 failed, pass 2 (1.05 s) and the passes woken at 1.2, 1.4, 1.6 went well; the
  // sixth, woken at 1.8 s, gives up before doing anything.
  EXPECT_NEAR(out.waiter_failed_at, 1.8, 0.02);
}

// A waiter whose own node has gone cannot find the node ahead of it: every pass is an
// error, and the sixth ends the call with the general locking failure.
TEST(ZkTtl, LostOwnNodeEndsInLockingFailure) {
  CounterOut out;
  PortsWorld w(2);
  w.spawn(0, [](PortsWorld* w, CounterOut* out) -> Task<void> {
    LockContext ctx = co_await context(w, "zk-ttl", 0, "");
    std::shared_ptr<Session> session = ctx.sessions[0];
    locks::ZkTtlLock lock(std::move(ctx));
    out->holder = co_await lock.acquire(w->client(0).now() + 5s);
    co_await sleep_until(w->client(0), 1s);
    for (const auto& name : w->children(kPath))
      if (kPath + "/" + name != lock.lock_znode()) co_await session->remove(kPath + "/" + name);
    co_await session->set(lock.lock_znode(), "poke", -1);  // wakes the waiter
  }(&w, &out));
  w.spawn(1, [](PortsWorld* w, CounterOut* out) -> Task<void> {
    locks::ZkTtlLock lock(co_await context(w, "zk-ttl", 1, ""));
    co_await sleep_until(w->client(1), 500ms);
    out->waiter = co_await lock.acquire(w->client(1).now() + 10s);
    out->waiter_failed_at = w->now_s();
  }(&w, &out));
  w.run_until(15s);

  EXPECT_FALSE(out.waiter.acquired);
  EXPECT_EQ(out.waiter.error, std::string(locks::kZkTtlLockingFailed) +
                                  "unable to determine which lock to enqueue behind");
  // Woken at 1 s: passes 2 to 5 each pause 50 ms, the sixth gives up at once.
  EXPECT_NEAR(out.waiter_failed_at, 1.0 + 4 * 0.05, 0.03);
}

// --- etcd-session -------------------------------------------------------------------

TEST(EtcdSession, TtlIsRoundedUpToWholeSecondsWithSixtyAsDefault) {
  auto ttl = [](std::map<std::string, std::string> o) {
    return locks::etcd_session_ttl(
        resolve_algorithm("etcd-session").validate(Options(std::move(o))));
  };
  EXPECT_EQ(ttl({}), 60s);
  EXPECT_EQ(ttl({{"ttl", "0s"}}), 60s);
  EXPECT_EQ(ttl({{"ttl", "500ms"}}), 1s);
  EXPECT_EQ(ttl({{"ttl", "1500ms"}}), 2s);
  EXPECT_EQ(ttl({{"ttl", "3s"}}), 3s);
}

struct EtcdOut {
  AcquireResult a, b;
  double a_at = -1, b_at = -1, a_released_at = -1;
  std::vector<std::string> children;
  std::string expected_key;
  int64_t key_czxid = 0;
  ReleaseResult a_released, b_released;
  bool lost_ready_while_held = true;
};

Task<void> etcd_holder(PortsWorld* w, EtcdOut* out, Duration hold) {
  LockContext ctx = co_await context(w, "etcd-session", 0, "");
  char hex[32];
  std::snprintf(hex, sizeof hex, "%llx", static_cast<unsigned long long>(ctx.sessions[0]->id()));
  out->expected_key = hex;
  auto lock = locks::make_etcd_session(std::move(ctx));
  out->a = co_await lock->acquire(w->client(0).now() + 5s);
  out->a_at = w->now_s();
  out->children = w->children(kPath);
  out->key_czxid = w->node(kPath + "/" + out->expected_key).stat.czxid;
  co_await w->client(0).sleep_for(hold);
  out->lost_ready_while_held = out->a.lease.lost.ready();
  out->a_released = co_await lock->release();
  out->a_released_at = w->now_s();
}

TEST(EtcdSession, KeyPerSessionLowestRevisionHoldsNextWaits) {
  EtcdOut out;
  PortsWorld w(2);
  w.spawn(0, etcd_holder(&w, &out, 1s));
  w.spawn(1, [](PortsWorld* w, EtcdOut* out) -> Task<void> {
    auto lock = locks::make_etcd_session(co_await context(w, "etcd-session", 1, ""));
    co_await sleep_until(w->client(1), 200ms);
    out->b = co_await lock->acquire(w->client(1).now() + 5s);
    out->b_at = w->now_s();
    out->b_released = co_await lock->release();
  }(&w, &out));
  w.run_until(10s);

  ASSERT_TRUE(out.a.acquired) << out.a.error;
  EXPECT_EQ(out.children, std::vector<std::string>{out.expected_key});
  EXPECT_EQ(out.a.lease.node_czxid, std::optional<uint64_t>(out.key_czxid));
  EXPECT_FALSE(out.a.lease.token.has_value());
  EXPECT_TRUE(out.a.lease.lost.valid());
  EXPECT_FALSE(out.lost_ready_while_held);
  ASSERT_TRUE(out.b.acquired) << out.b.error;
  EXPECT_GT(out.b_at, out.a_released_at - 0.01);
  EXPECT_LT(out.b_at, out.a_released_at + 0.02);
  EXPECT_TRUE(out.b_released.ok);
}

// Two lockers of one session share its key: both hold at once, and the first Unlock
// frees the lock for everyone else while the second still believes it holds.
struct SharedKeyOut {
  AcquireResult first, second, other;
  double first_released_at = -1, other_at = -1, second_released_at = -1;
  size_t children_both = 0;
  ReleaseResult second_release;
};

TEST(EtcdSession, TwoLockersOfOneSessionShareTheKey) {
  SharedKeyOut out;
  PortsWorld w(2);
  w.spawn(0, [](PortsWorld* w, SharedKeyOut* out) -> Task<void> {
    LockContext ctx = co_await context(w, "etcd-session", 0, "");
    LockContext same = ctx;  // the same session, a second locker
    auto first = locks::make_etcd_session(std::move(ctx));
    auto second = locks::make_etcd_session(std::move(same));
    Time deadline = w->client(0).now() + 5s;
    out->first = co_await first->acquire(deadline);
    out->second = co_await second->acquire(deadline);
    out->children_both = w->children(kPath).size();
    co_await sleep_until(w->client(0), 1s);
    co_await first->release();
    out->first_released_at = w->now_s();
    co_await sleep_until(w->client(0), 2s);
    out->second_release = co_await second->release();  // the key is gone: no error
    out->second_released_at = w->now_s();
  }(&w, &out));
  w.spawn(1, [](PortsWorld* w, SharedKeyOut* out) -> Task<void> {
    auto lock = locks::make_etcd_session(co_await context(w, "etcd-session", 1, ""));
    co_await sleep_until(w->client(1), 500ms);
    out->other = co_await lock->acquire(w->client(1).now() + 5s);
    out->other_at = w->now_s();
  }(&w, &out));
  w.run_until(10s);

  EXPECT_TRUE(out.first.acquired);
  EXPECT_TRUE(out.second.acquired);
  EXPECT_EQ(out.children_both, 1u);
  ASSERT_TRUE(out.other.acquired);
  EXPECT_LT(out.other_at, out.second_released_at);  // while `second` still "holds"
  EXPECT_GE(out.other_at, out.first_released_at);
  EXPECT_TRUE(out.second_release.ok);
}

struct TimeoutOut {
  AcquireResult a, b;
  double b_done_at = -1;
  std::vector<std::string> children_after;
};

Task<void> etcd_waiter(PortsWorld* w, TimeoutOut* out, std::map<std::string, std::string> opts,
                       Duration caller_wait) {
  auto lock = locks::make_etcd_session(co_await context(w, "etcd-session", 1, opts));
  co_await sleep_until(w->client(1), 200ms);
  out->b = co_await lock->acquire(w->client(1).now() + caller_wait);
  out->b_done_at = w->now_s();
  out->children_after = w->children(kPath);
}

Task<void> etcd_plain_holder(PortsWorld* w, TimeoutOut* out, Duration hold) {
  auto lock = locks::make_etcd_session(co_await context(w, "etcd-session", 0, ""));
  out->a = co_await lock->acquire(w->client(0).now() + 5s);
  co_await w->client(0).sleep_for(hold);
  co_await lock->release();
}

TEST(EtcdSession, TimeoutCancelsAndDeletesTheKey) {
  TimeoutOut out;
  PortsWorld w(2);
  w.spawn(0, etcd_plain_holder(&w, &out, 5s));
  w.spawn(1, etcd_waiter(&w, &out, {{"timeout", "2s"}}, 30s));
  w.run_until(10s);
  EXPECT_FALSE(out.b.acquired);
  EXPECT_EQ(out.b.error, locks::kEtcdCanceled);
  EXPECT_NEAR(out.b_done_at, 2.2, 0.02);
  EXPECT_EQ(out.children_after.size(), 1u);  // only the holder's key is left
}

TEST(EtcdSession, TimeoutBelowOneSecondIsOneSecond) {
  TimeoutOut out;
  PortsWorld w(2);
  w.spawn(0, etcd_plain_holder(&w, &out, 5s));
  w.spawn(1, etcd_waiter(&w, &out, {{"timeout", "100ms"}}, 30s));
  w.run_until(10s);
  EXPECT_EQ(out.b.error, locks::kEtcdCanceled);
  EXPECT_NEAR(out.b_done_at, 1.2, 0.02);
}

TEST(EtcdSession, CallersDeadlineStandsInForAMissingTimeout) {
  TimeoutOut out;
  PortsWorld w(2);
  w.spawn(0, etcd_plain_holder(&w, &out, 5s));
  w.spawn(1, etcd_waiter(&w, &out, {}, 1500ms));
  w.run_until(10s);
  EXPECT_EQ(out.b.error, locks::kEtcdCanceled);
  EXPECT_NEAR(out.b_done_at, 1.7, 0.02);
}

TEST(EtcdSession, TimeoutZeroWaitsForever) {
  TimeoutOut out;
  PortsWorld w(2);
  w.spawn(0, etcd_plain_holder(&w, &out, 5s));
  w.spawn(1, etcd_waiter(&w, &out, {{"timeout", "0s"}}, 1s));  // the caller's 1 s is ignored
  w.run_until(10s);
  EXPECT_TRUE(out.b.acquired) << out.b.error;
  EXPECT_GT(out.b_done_at, 5.0);
}

struct LostOut {
  AcquireResult a;
  double lost_at = -1;
  ReleaseResult before_lock, after_unlock;
};

TEST(EtcdSession, LostSignalIsTheSessionsEnd) {
  LostOut out;
  PortsWorld w(1);
  w.spawn(0, [](PortsWorld* w, LostOut* out) -> Task<void> {
    LockContext ctx = co_await context(w, "etcd-session", 0, "");
    std::shared_ptr<Session> session = ctx.sessions[0];
    auto lock = locks::make_etcd_session(std::move(ctx));
    out->before_lock = co_await lock->release();
    out->a = co_await lock->acquire(w->client(0).now() + 5s);
    co_await sleep_until(w->client(0), 1s);
    co_await session->close();
    co_await out->a.lease.lost;
    out->lost_at = w->now_s();
  }(&w, &out));
  w.run_until(10s);
  EXPECT_FALSE(out.before_lock.ok);  // m.myKey is "" before the first Lock
  EXPECT_EQ(out.before_lock.error, "etcdserver: key is not provided");
  ASSERT_TRUE(out.a.acquired);
  EXPECT_NEAR(out.lost_at, 1.0, 0.02);
}

// --- local ---------------------------------------------------------------------------

struct LocalOut {
  std::vector<AcquireResult> got = std::vector<AcquireResult>(3);
  std::vector<double> at = std::vector<double>(3, -1);
  std::vector<double> released_at = std::vector<double>(3, -1);
  bool lost_before_release = false, lost_after_release = false;
};

Task<void> local_client(PortsWorld* w, LocalOut* out, int me, Duration start, Duration hold,
                        std::map<std::string, std::string> opts, Duration caller_wait) {
  LockContext ctx;  // no sessions: the service never touches a store
  ctx.env = &w->client(me);
  ctx.path = kPath;
  ctx.options = resolve_algorithm("local").validate(Options(std::move(opts)));
  ctx.shared = &w->shared();
  auto lock = locks::make_local(std::move(ctx));
  co_await sleep_until(w->client(me), start);
  AcquireResult& got = out->got[static_cast<size_t>(me)];
  got = co_await lock->acquire(w->client(me).now() + caller_wait);
  out->at[static_cast<size_t>(me)] = w->now_s();
  if (!got.acquired) co_return;
  co_await w->client(me).sleep_for(hold);
  if (me == 0) out->lost_before_release = got.lease.lost.ready();
  co_await lock->release();
  if (me == 0) out->lost_after_release = got.lease.lost.ready();
  out->released_at[static_cast<size_t>(me)] = w->now_s();
}

TEST(Local, BlocksForeverWithTimeoutZeroAndHandsOverInOrder) {
  LocalOut out;
  PortsWorld w(3);
  std::map<std::string, std::string> forever = {{"timeout", "0s"}, {"ttl", "1s"}};
  w.spawn(0, local_client(&w, &out, 0, 0s, 1s, forever, 1s));
  w.spawn(1, local_client(&w, &out, 1, 100ms, 1s, forever, 1s));
  w.spawn(2, local_client(&w, &out, 2, 200ms, 1s, forever, 1s));
  w.run_until(10s);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(out.got[static_cast<size_t>(i)].acquired) << i;
  EXPECT_NEAR(out.at[1], out.released_at[0], 1e-6);  // handed over at the release
  EXPECT_NEAR(out.at[2], out.released_at[1], 1e-6);  // then the next in line
  EXPECT_NEAR(out.at[2], 2.0, 1e-6);                 // the TTL (1 s) never took anything away
  EXPECT_FALSE(out.lost_before_release);
  EXPECT_TRUE(out.lost_after_release);  // the unlock channel closes at Unlock only
  EXPECT_EQ(w.server().stats().requests, 0);
}

TEST(Local, WaiterWhoseTimeoutFiresLeavesTheQueue) {
  LocalOut out;
  PortsWorld w(3);
  w.spawn(0, local_client(&w, &out, 0, 0s, 1s, {{"timeout", "0s"}}, 1s));
  w.spawn(1, local_client(&w, &out, 1, 100ms, 1s, {{"timeout", "300ms"}}, 30s));
  w.spawn(2, local_client(&w, &out, 2, 200ms, 1s, {}, 5s));  // the caller's deadline
  w.run_until(10s);
  EXPECT_FALSE(out.got[1].acquired);
  EXPECT_EQ(out.got[1].error, locks::kLocalCanceled);
  EXPECT_NEAR(out.at[1], 0.4, 1e-6);
  ASSERT_TRUE(out.got[2].acquired);
  EXPECT_NEAR(out.at[2], 1.0, 1e-6);
}

TEST(Local, NeedsTheSharedRegistry) {
  PortsWorld w(1);
  LockContext ctx;
  ctx.env = &w.client(0);
  ctx.path = kPath;
  EXPECT_THROW(locks::make_local(std::move(ctx)), std::logic_error);
}

// --- redlock -------------------------------------------------------------------------

struct RedlockOut {
  AcquireResult a, b;
  double a_at = -1, b_at = -1;
  Time a_until{0};
  Time a_local_at{0};
  std::string value, stored;
  int64_t owner_bits = 0;
  ReleaseResult released, released_again, extended;
  bool valid_before = false, valid_after = false;
  std::vector<bool> key_on_store;
};

TEST(Redlock, LockUnlockOnOneStore) {
  RedlockOut out;
  PortsWorld w(1);
  w.spawn(0, [](PortsWorld* w, RedlockOut* out) -> Task<void> {
    locks::RedlockLock lock(co_await context(w, "redlock", 0, ""));
    EXPECT_EQ(lock.quorum(), 1);
    Time start = w->client(0).now();
    out->a = co_await lock.acquire(start + 5s);
    out->a_local_at = w->client(0).now();
    out->a_until = lock.until();
    out->value = lock.value();
    ReadResult key = w->redlock_key(kPath);
    out->stored = key.data;
    out->owner_bits = w->server().tree().stored_ephemeral_owner(w->redlock_incarnation(kPath));
    out->valid_before = co_await lock.valid();
    out->released = co_await lock.release();
    out->valid_after = co_await lock.valid();
    out->released_again = co_await lock.release();
  }(&w, &out));
  w.run_until(10s);

  ASSERT_TRUE(out.a.acquired) << out.a.error;
  EXPECT_FALSE(out.a.lease.token.has_value());
  EXPECT_FALSE(out.a.lease.lost.valid());
  EXPECT_EQ(out.value.size(), 32u);  // a random value per Lock
  EXPECT_EQ(out.stored, out.value);
  // A TTL node: the server stores ZooKeeper's ephemeralOwner encoding 0xFF.. | ttl.
  EXPECT_EQ(static_cast<uint64_t>(out.owner_bits), 0xFF00000000000000ULL | 3000u);
  // until = now + expiry - elapsed - expiry x drift: a little under 3 s - 30 ms.
  Duration validity = out.a_until - out.a_local_at;
  EXPECT_LE(validity, 3s - 30ms);
  EXPECT_GT(validity, 3s - 50ms);  // minus a few round trips (the first makes /locks)
  EXPECT_TRUE(out.valid_before);
  EXPECT_TRUE(out.released.ok);
  EXPECT_FALSE(out.valid_after);
  EXPECT_FALSE(out.released_again.ok);
  EXPECT_EQ(out.released_again.error, locks::kRedlockNotAcquired);
  EXPECT_EQ(w.redlock_key(kPath).err, Error::NoNode);
  EXPECT_TRUE(w.children(kPath).empty());
}

TEST(Redlock, GivesUpAfterItsTriesAndLeavesNoKey) {
  RedlockOut out;
  PortsWorld w(2);
  w.spawn(0, [](PortsWorld* w, RedlockOut* out) -> Task<void> {
    locks::RedlockLock lock(co_await context(w, "redlock", 0, "value=holder"));
    out->a = co_await lock.acquire(w->client(0).now() + 5s);
    co_await sleep_until(w->client(0), 2s);
    out->released = co_await lock.release();
  }(&w, &out));
  w.spawn(1, [](PortsWorld* w, RedlockOut* out) -> Task<void> {
    locks::RedlockLock lock(co_await context(w, "redlock", 1, "tries=4"));
    co_await sleep_until(w->client(1), 100ms);
    out->b = co_await lock.acquire(w->client(1).now() + 5s);
    out->b_at = w->now_s();
    out->stored = w->redlock_key(kPath).data;
    out->key_on_store.push_back(w->children(kPath).size() == 1);
  }(&w, &out));
  w.run_until(10s);

  ASSERT_TRUE(out.a.acquired);
  EXPECT_FALSE(out.b.acquired);
  EXPECT_EQ(out.b.error, locks::kRedlockFailed);
  // Three delays of 10..150 ms between the four tries.
  EXPECT_GT(out.b_at, 0.1 + 3 * 0.010);
  EXPECT_LT(out.b_at, 0.1 + 3 * 0.150 + 0.05);
  EXPECT_EQ(out.stored, "holder");  // the loser's releases compared values and kept it
  EXPECT_EQ(out.key_on_store, std::vector<bool>{true});  // each losing SET took its node back
  EXPECT_TRUE(out.released.ok);
}

// The key expires on its server; the client that set it is not told (no lost signal),
// its Valid turns false and its Unlock fails; another client meanwhile holds.
TEST(Redlock, KeyExpiresOnTheServerWhileItsHolderIsNotTold) {
  RedlockOut out;
  PortsWorld w(2);
  w.spawn(0, [](PortsWorld* w, RedlockOut* out) -> Task<void> {
    locks::RedlockLock lock(co_await context(w, "redlock", 0, "expiry=1s"));
    out->a = co_await lock.acquire(w->client(0).now() + 5s);
    co_await sleep_until(w->client(0), 3s);
    out->valid_after = co_await lock.valid();
    out->released = co_await lock.release();
  }(&w, &out));
  w.spawn(1, [](PortsWorld* w, RedlockOut* out) -> Task<void> {
    locks::RedlockLock lock(co_await context(w, "redlock", 1, "expiry=10s,tries=100"));
    co_await sleep_until(w->client(1), 100ms);
    out->b = co_await lock.acquire(w->client(1).now() + 10s);
    out->b_at = w->now_s();
  }(&w, &out));
  w.run_until(10s);

  ASSERT_TRUE(out.a.acquired);
  ASSERT_TRUE(out.b.acquired) << out.b.error;
  // The TTL node goes at the server's next check after mtime + 1 s (every 500 ms).
  EXPECT_GT(out.b_at, 1.0);
  EXPECT_LT(out.b_at, 1.7);
  EXPECT_FALSE(out.valid_after);
  EXPECT_EQ(out.released.error, locks::kRedlockNotAcquired);
}

TEST(Redlock, ExtendResetsTheExpiryAndMovesUntil) {
  RedlockOut out;
  PortsWorld w(2);
  w.spawn(0, [](PortsWorld* w, RedlockOut* out) -> Task<void> {
    locks::RedlockLock lock(co_await context(w, "redlock", 0, "expiry=1s"));
    out->a = co_await lock.acquire(w->client(0).now() + 5s);
    Time first_until = lock.until();
    co_await sleep_until(w->client(0), 700ms);
    out->extended = co_await lock.extend();
    EXPECT_GT(lock.until() - first_until, 650ms);
    co_await sleep_until(w->client(0), 1600ms);
    out->valid_before = co_await lock.valid();  // would have expired without the extend
    co_await sleep_until(w->client(0), 4s);
    out->valid_after = co_await lock.valid();
    out->released = co_await lock.extend();  // too late: the key has expired
  }(&w, &out));
  w.run_until(10s);

  ASSERT_TRUE(out.a.acquired);
  EXPECT_TRUE(out.extended.ok) << out.extended.error;
  EXPECT_TRUE(out.valid_before);
  EXPECT_FALSE(out.valid_after);
  EXPECT_FALSE(out.released.ok);
  EXPECT_EQ(out.released.error, locks::kRedlockNotAcquired);
}

// The key's expiry runs on its server's clock: a server whose clock runs twice as fast
// drops the key while the client still counts on its validity.
TEST(Redlock, ExpiryRunsOnTheStoresOwnClock) {
  RedlockOut out;
  PortsWorld w(2);
  w.server_process(0).clock().set_drift_ppm(Time(0), 1e6);
  w.server_process(0).clock_changed();
  w.spawn(0, [](PortsWorld* w, RedlockOut* out) -> Task<void> {
    locks::RedlockLock lock(co_await context(w, "redlock", 0, "expiry=4s"));
    out->a = co_await lock.acquire(w->client(0).now() + 5s);
    out->a_until = lock.until();
  }(&w, &out));
  w.spawn(1, [](PortsWorld* w, RedlockOut* out) -> Task<void> {
    locks::RedlockLock lock(co_await context(w, "redlock", 1, "tries=1000"));
    co_await sleep_until(w->client(1), 100ms);
    out->b = co_await lock.acquire(w->client(1).now() + 10s);
    out->b_at = w->now_s();
  }(&w, &out));
  w.run_until(10s);

  ASSERT_TRUE(out.a.acquired);
  ASSERT_TRUE(out.b.acquired) << out.b.error;
  const double a_until = static_cast<double>(out.a_until.count()) / 1e9;
  EXPECT_GT(a_until, 3.9);
  EXPECT_LT(out.b_at, 2.5);          // about 2 s of true time: 4 s on the server's clock
  EXPECT_LT(out.b_at, a_until - 1);  // both "hold"
}

// N = 5 independent stores: a quorum of 3 is enough, and a try that falls short takes
// back what it set.
TEST(Redlock, FiveStoresNeedAQuorumOfThree) {
  struct Out {
    AcquireResult two_taken, three_taken;
    std::vector<std::string> after_two, after_three;
  } out;
  PortsWorld w(2, 5);
  w.spawn(0, [](PortsWorld* w) -> Task<void> {
    LockContext ctx = co_await context(w, "redlock", 0, "value=other");
    // Another holder's value on stores 0 and 1 (plain incarnations: they stay).
    auto set_other = [](Session& s) -> Task<void> {
      co_await s.create("/locks", "", CreateMode::Persistent);
      co_await s.create(kPath, "", CreateMode::Persistent);
      co_await s.create(std::string(kPath) + "/key-", "other", CreateMode::PersistentSequential);
    };
    co_await set_other(*ctx.sessions[0]);
    co_await set_other(*ctx.sessions[1]);
    co_await sleep_until(w->client(0), 2s);
    co_await set_other(*ctx.sessions[2]);
  }(&w));
  w.spawn(1, [](PortsWorld* w, Out* out) -> Task<void> {
    locks::RedlockLock lock(co_await context(w, "redlock", 1, "value=mine,tries=3"));
    EXPECT_EQ(lock.stores(), 5u);
    EXPECT_EQ(lock.quorum(), 3);
    co_await sleep_until(w->client(1), 1s);
    out->two_taken = co_await lock.acquire(w->client(1).now() + 5s);
    for (int s = 0; s < 5; ++s) out->after_two.push_back(w->redlock_key(kPath, s).data);
    co_await lock.release();
    co_await sleep_until(w->client(1), 3s);
    out->three_taken = co_await lock.acquire(w->client(1).now() + 5s);
    for (int s = 0; s < 5; ++s) {
      ReadResult r = w->redlock_key(kPath, s);
      out->after_three.push_back(r.err == Error::Ok ? r.data : "-");
    }
  }(&w, &out));
  w.run_until(10s);

  EXPECT_TRUE(out.two_taken.acquired) << out.two_taken.error;
  EXPECT_EQ(out.after_two, (std::vector<std::string>{"other", "other", "mine", "mine", "mine"}));
  EXPECT_FALSE(out.three_taken.acquired);
  EXPECT_EQ(out.three_taken.error, locks::kRedlockFailed);
  EXPECT_EQ(out.after_three, (std::vector<std::string>{"other", "other", "other", "-", "-"}));
}

// --- sessions for stores without sessions (redlock, lease-fenced) --------------------

// Once the ZooKeeper session under it has expired, the next call opens a new one and goes
// through; the ports that use it are marked sessionless in the catalogue.
TEST(RenewingSession, ExpiredSessionIsReplacedAtTheNextCall) {
  struct Out {
    Error before = Error::SystemError, after = Error::SystemError;
    SessionState seen_expired = SessionState::Connected;
    int64_t first_id = 0, second_id = 0;
    int renewals = -1;
  } out;
  PortsWorld w(1);
  w.spawn(0, [](PortsWorld* w, Out* out) -> Task<void> {
    Env& env = w->client(0);
    Store& store = w->store(0);
    ConnectReply first = co_await store.connect(env, 1s);
    auto session = std::make_shared<RenewingSession>(env, first.session, [&env, &store] {
      return [](Env& env, Store& store) -> Task<std::shared_ptr<Session>> {
        ConnectReply again = co_await store.connect(env, 1s);
        co_return again.session;
      }(env, store);
    });
    out->first_id = session->id();
    out->before = (co_await session->create("/a", "", CreateMode::Persistent)).err;
    w->server().expire_session(out->first_id);
    co_await sleep_until(env, 3s);  // the client learns of the expiry on reconnecting
    out->seen_expired = session->state();
    out->after = (co_await session->create("/b", "", CreateMode::Persistent)).err;
    out->second_id = session->id();
    out->renewals = session->renewals();
    co_await session->close();
  }(&w, &out));
  w.run_until(10s);

  EXPECT_EQ(out.before, Error::Ok);
  EXPECT_EQ(out.seen_expired, SessionState::Suspended);  // about to be replaced
  EXPECT_EQ(out.after, Error::Ok);
  EXPECT_EQ(out.renewals, 1);
  EXPECT_NE(out.second_id, out.first_id);
  EXPECT_EQ(w.node("/b").err, Error::Ok);
  EXPECT_TRUE(resolve_algorithm("redlock").sessionless);
  EXPECT_TRUE(resolve_algorithm("lease-fenced").sessionless);
  EXPECT_FALSE(resolve_algorithm("recipe").sessionless);
}

// --- lease-fenced --------------------------------------------------------------------

struct LeaseOut {
  std::vector<AcquireResult> got;
  std::vector<double> at;
  std::vector<std::string> rows;
  AcquireResult again;
  double lost_at = -1, warned_at = -1;
  int warnings = -1;
  bool expired_mid = true, expired_end = false;
};

std::string row_at(PortsWorld* w) {
  ReadResult r = w->node(kPath);
  return r.err == Error::Ok ? r.data : "-";
}

TEST(LeaseFenced, RowWithOwnerAndUntilDeletedAtRelease) {
  LeaseOut out;
  PortsWorld w(1);
  w.spawn(0, [](PortsWorld* w, LeaseOut* out) -> Task<void> {
    locks::LeaseFencedLock lock(co_await context(w, "lease-fenced", 0, "owner=me"));
    Time now = w->client(0).now();
    out->got.push_back(co_await lock.acquire(now + 5s));
    out->rows.push_back(row_at(w));
    out->again = co_await lock.try_lock();
    out->expired_mid = lock.is_expired();
    co_await lock.release();
    out->rows.push_back(row_at(w));
    out->expired_end = lock.is_expired();
  }(&w, &out));
  w.run_until(5s);

  ASSERT_FALSE(out.got.empty());
  ASSERT_TRUE(out.got[0].acquired) << out.got[0].error;
  EXPECT_FALSE(out.got[0].lease.token.has_value());
  EXPECT_TRUE(out.got[0].lease.lost.valid());
  // until = the clock at TryLock + 1 min, in milliseconds.
  EXPECT_EQ(out.rows[0].rfind("{\"owner\":\"me\",\"until\":", 0), 0u) << out.rows[0];
  EXPECT_EQ(out.rows[0].find("token"), std::string::npos);
  EXPECT_EQ(out.again.error, locks::kLeaseSameLocker);
  EXPECT_FALSE(out.expired_mid);
  EXPECT_EQ(out.rows[1], "-");
  EXPECT_TRUE(out.expired_end);
  EXPECT_TRUE(out.got[0].lease.lost.ready());  // IsExpired turned true at Unlock
}

Task<void> lease_cycle(PortsWorld* w, LeaseOut* out, int me, Duration start,
                       std::map<std::string, std::string> opts) {
  locks::LeaseFencedLock lock(co_await context(w, "lease-fenced", me, opts));
  co_await sleep_until(w->client(me), start);
  AcquireResult got = co_await lock.acquire(w->client(me).now() + 2s);
  out->got.push_back(got);
  out->at.push_back(w->now_s());
  EXPECT_EQ(lock.fencing_token(), got.lease.token);
  co_await lock.release();
  out->rows.push_back(row_at(w));
}

// The token grows with every grant and survives release (the row stays, its until set
// to the epoch + 1 s); a non-fencing locker replaces the row and deletes it, so the
// next fencing grant starts again at 1.
TEST(LeaseFenced, FencingTokenGrowsSurvivesReleaseAndNonFencingResetsIt) {
  LeaseOut out;
  PortsWorld w(2);
  std::map<std::string, std::string> fenced = {{"fencing", "true"}};
  w.spawn(0, lease_cycle(&w, &out, 0, 0s, fenced));
  w.spawn(1, lease_cycle(&w, &out, 1, 1s, fenced));
  w.spawn(0, lease_cycle(&w, &out, 0, 2s, fenced));
  w.spawn(1, lease_cycle(&w, &out, 1, 3s, {{"fencing", "false"}}));
  w.spawn(0, lease_cycle(&w, &out, 0, 4s, fenced));
  w.run_until(10s);

  ASSERT_EQ(out.got.size(), 5u);
  for (const auto& g : out.got) EXPECT_TRUE(g.acquired) << g.error;
  EXPECT_EQ(out.got[0].lease.token, std::optional<uint64_t>(1));
  EXPECT_EQ(out.got[1].lease.token, std::optional<uint64_t>(2));
  EXPECT_EQ(out.got[2].lease.token, std::optional<uint64_t>(3));
  EXPECT_FALSE(out.got[3].lease.token.has_value());
  EXPECT_EQ(out.got[4].lease.token, std::optional<uint64_t>(1));
  // Released rows keep the token; the non-fencing release deleted the row.
  const std::string epoch_plus_1s = "\"until\":" + std::to_string(-4'000'000'000'000'000 + 1000);
  EXPECT_NE(out.rows[0].find(epoch_plus_1s), std::string::npos) << out.rows[0];
  EXPECT_NE(out.rows[0].find("\"token\":1"), std::string::npos) << out.rows[0];
  EXPECT_NE(out.rows[2].find("\"token\":3"), std::string::npos) << out.rows[2];
  EXPECT_EQ(out.rows[3], "-");
}

// fencing=mixed: the even-numbered client fences, the odd one does not; a bad value of
// the option is refused by name.
TEST(LeaseFenced, MixedFencingByClientIndex) {
  LeaseOut out;
  PortsWorld w(2);
  std::map<std::string, std::string> mixed = {{"fencing", "mixed"}};
  w.spawn(0, lease_cycle(&w, &out, 0, 0s, mixed));
  w.spawn(1, lease_cycle(&w, &out, 1, 1s, mixed));
  w.run_until(5s);

  ASSERT_EQ(out.got.size(), 2u);
  EXPECT_EQ(out.got[0].lease.token, std::optional<uint64_t>(1));
  EXPECT_FALSE(out.got[1].lease.token.has_value());
  EXPECT_EQ(out.rows[1], "-");  // the non-fencing release deleted the row

  PortsWorld bad(1);
  bool refused = false;
  bad.client(0).spawn([](PortsWorld* w, bool* refused) -> Task<void> {
    try {
      locks::LeaseFencedLock lock(co_await context(w, "lease-fenced", 0, "fencing=sometimes"));
    } catch (const OptionError& e) {
      *refused = e.key == "fencing" && e.problem == "is not true, false or mixed";
    }
  }(&bad, &refused));
  bad.run_until(1s);
  EXPECT_TRUE(refused);
}

// Without heartbeats in time, the lease ends locally (lost, IsExpired), and another
// Locker may steal the row only max_clock_skew after the row's until.
TEST(LeaseFenced, TakenUntilLeasePlusSkewThenStolen) {
  LeaseOut out;
  PortsWorld w(2);
  std::map<std::string, std::string> opts = {
      {"lease", "2s"}, {"heartbeat", "30s"}, {"max_clock_skew", "1s"}};
  w.spawn(0,
          [](PortsWorld* w, LeaseOut* out, std::map<std::string, std::string> opts) -> Task<void> {
            locks::LeaseFencedLock lock(co_await context(w, "lease-fenced", 0, opts));
            out->got.push_back(co_await lock.acquire(w->client(0).now() + 5s));
            co_await sleep_until(w->client(0), 1500ms);
            out->expired_mid = lock.is_expired();
            co_await out->got[0].lease.lost;
            out->lost_at = w->now_s();
            out->expired_end = lock.is_expired();
            co_await sleep_until(w->client(0), 9s);
          }(&w, &out, opts));
  w.spawn(1,
          [](PortsWorld* w, LeaseOut* out, std::map<std::string, std::string> opts) -> Task<void> {
            locks::LeaseFencedLock lock(co_await context(w, "lease-fenced", 1, opts));
            co_await sleep_until(w->client(1), 1s);
            out->again = co_await lock.try_lock();
            co_await sleep_until(w->client(1), 2500ms);
            AcquireResult late = co_await lock.try_lock();
            EXPECT_FALSE(late.acquired);
            out->got.push_back(co_await lock.acquire(w->client(1).now() + 5s));
            out->at.push_back(w->now_s());
          }(&w, &out, opts));
  w.run_until(10s);

  ASSERT_FALSE(out.got.empty());
  ASSERT_TRUE(out.got[0].acquired);
  EXPECT_FALSE(out.expired_mid);
  EXPECT_NEAR(out.lost_at, 2.0, 0.01);
  EXPECT_TRUE(out.expired_end);
  EXPECT_EQ(out.again.error, std::string(locks::kLeaseTaken) +
                                 ": ConditionalCheckFailedException: The conditional "
                                 "request failed");
  ASSERT_EQ(out.got.size(), 2u);
  ASSERT_TRUE(out.got[1].acquired) << out.got[1].error;
  EXPECT_GE(out.at[0], 3.0);  // until + skew
  EXPECT_LT(out.at[0], 3.1);
}

TEST(LeaseFenced, HeartbeatsKeepTheLeaseAndTheWarningAway) {
  LeaseOut out;
  PortsWorld w(2);
  std::map<std::string, std::string> opts = {
      {"lease", "2s"}, {"heartbeat", "500ms"}, {"warn_after", "1500ms"}};
  w.spawn(0,
          [](PortsWorld* w, LeaseOut* out, std::map<std::string, std::string> opts) -> Task<void> {
            locks::LeaseFencedLock lock(co_await context(w, "lease-fenced", 0, opts));
            out->got.push_back(co_await lock.acquire(w->client(0).now() + 5s));
            Time first_until = *lock.lease_until();
            co_await sleep_until(w->client(0), 6s);
            EXPECT_GT(*lock.lease_until() - first_until, 5s);
            out->expired_mid = lock.is_expired();
            out->warnings = lock.warnings();
            out->expired_end = out->got[0].lease.lost.ready();
            co_await lock.release();
          }(&w, &out, opts));
  w.spawn(1,
          [](PortsWorld* w, LeaseOut* out, std::map<std::string, std::string> opts) -> Task<void> {
            locks::LeaseFencedLock lock(co_await context(w, "lease-fenced", 1, opts));
            co_await sleep_until(w->client(1), 4s);
            out->again = co_await lock.try_lock();
          }(&w, &out, opts));
  w.run_until(10s);

  ASSERT_FALSE(out.got.empty());
  ASSERT_TRUE(out.got[0].acquired);
  EXPECT_FALSE(out.expired_mid);
  EXPECT_EQ(out.warnings, 0);
  EXPECT_FALSE(out.expired_end);
  EXPECT_FALSE(out.again.acquired);
}

// The warn signal fires warn_after past the acquire when no heartbeat refreshed the
// lease; the lost signal follows at the lease end.
TEST(LeaseFenced, WarnFiresAfterTheLastRefresh) {
  LeaseOut out;
  PortsWorld w(1);
  w.spawn(0, [](PortsWorld* w, LeaseOut* out) -> Task<void> {
    locks::LeaseFencedLock lock(
        co_await context(w, "lease-fenced", 0, "lease=3s,heartbeat=30s,warn_after=1s"));
    out->got.push_back(co_await lock.acquire(w->client(0).now() + 5s));
    co_await lock.warned();
    out->warned_at = w->now_s();
    co_await out->got[0].lease.lost;
    out->lost_at = w->now_s();
    out->warnings = lock.warnings();
  }(&w, &out));
  w.run_until(10s);
  ASSERT_FALSE(out.got.empty());
  ASSERT_TRUE(out.got[0].acquired);
  EXPECT_NEAR(out.warned_at, 1.0, 0.01);
  EXPECT_NEAR(out.lost_at, 3.0, 0.01);
  EXPECT_EQ(out.warnings, 1);
}

// A heartbeat whose conditional write fails (the row changed under it) does not advance
// the local lease: the lock expires locally at the original lease end.
TEST(LeaseFenced, FailedHeartbeatDoesNotAdvanceTheLease) {
  LeaseOut out;
  PortsWorld w(1);
  w.spawn(0, [](PortsWorld* w, LeaseOut* out) -> Task<void> {
    LockContext ctx = co_await context(w, "lease-fenced", 0, "lease=3s,heartbeat=1s,owner=me");
    std::shared_ptr<Session> session = ctx.sessions[0];
    locks::LeaseFencedLock lock(std::move(ctx));
    out->got.push_back(co_await lock.acquire(w->client(0).now() + 5s));
    co_await sleep_until(w->client(0), 500ms);
    co_await session->set(kPath, "{\"owner\":\"someone else\",\"until\":0}", -1);
    co_await out->got[0].lease.lost;
    out->lost_at = w->now_s();
  }(&w, &out));
  w.run_until(10s);
  ASSERT_FALSE(out.got.empty());
  ASSERT_TRUE(out.got[0].acquired);
  EXPECT_NEAR(out.lost_at, 3.0, 0.02);
}

// --- whole scenarios -----------------------------------------------------------------

TEST(PortsCatalogue, FollowRecipeInOrder) {
  std::vector<std::string> names;
  for (const auto& a : algorithms()) names.push_back(a.name);
  auto at = std::find(names.begin(), names.end(), "recipe");
  ASSERT_NE(at, names.end());
  EXPECT_EQ(
      std::vector<std::string>(at + 1, std::min(at + 6, names.end())),
      (std::vector<std::string>{"zk-ttl", "etcd-session", "local", "redlock", "lease-fenced"}));
  for (const char* name : {"zk-ttl", "etcd-session", "local", "redlock", "lease-fenced"})
    EXPECT_FALSE(resolve_algorithm(name).has_fencing_token) << name;
  EXPECT_TRUE(resolve_algorithm("redlock").option("stores"));
}

sim::Scenario port_scenario(const std::string& algorithm, int clients, uint64_t seed) {
  sim::Scenario s;
  s.algorithm = algorithm;
  s.clients = clients;
  s.seed = seed;
  s.workload.cycles = 5;
  s.workload.hold = 5ms;
  s.workload.think = 1ms;
  s.workload.acquire_timeout = 30s;
  s.duration = 120s;
  return s;
}

struct PortRun {
  std::string algorithm;
  std::map<std::string, std::string> options;
};

class PortsNoFaults : public ::testing::TestWithParam<PortRun> {};

// Without faults each port keeps mutual exclusion with a few clients, and every client
// finishes its cycles.
TEST_P(PortsNoFaults, MutualExclusionAndEveryClientDone) {
  for (int clients : {1, 3, 5}) {
    SCOPED_TRACE(GetParam().algorithm + " clients=" + std::to_string(clients));
    sim::Scenario s = port_scenario(GetParam().algorithm, clients, 3);
    s.options = Options(GetParam().options);
    sim::RunResult r = sim::run_scenario(s, {.keep_trace = false});
    Verdict me = check_mutual_exclusion(r.history);
    EXPECT_TRUE(me.ok) << me.summary;
    EXPECT_TRUE(r.all_clients_done);
    // Redlock gives up after its tries, so a client may miss a cycle; the queueing and
    // polling ports grant every one.
    if (GetParam().algorithm == "redlock")
      EXPECT_GT(r.acquisitions, 0);
    else
      EXPECT_EQ(r.acquisitions, int64_t{clients} * s.workload.cycles);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Ports, PortsNoFaults,
    ::testing::Values(PortRun{"zk-ttl", {}}, PortRun{"zk-ttl", {{"ttl", "10000"}}},
                      PortRun{"etcd-session", {}}, PortRun{"local", {}}, PortRun{"redlock", {}},
                      PortRun{"redlock", {{"stores", "5"}}}, PortRun{"lease-fenced", {}},
                      PortRun{"lease-fenced", {{"fencing", "true"}}}),
    [](const auto& info) {
      std::string n = info.param.algorithm + (info.param.options.empty() ? "" : "_options");
      for (auto& c : n)
        if (c == '-') c = '_';
      return n + "_" + std::to_string(info.index);
    });

}  // namespace
}  // namespace lockstep
