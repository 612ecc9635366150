// The simulated ZooKeeper under each fault kind: session life, watches, clocks, lost
// replies, TTLs. Each test drives the client library directly and checks what a real
// ZooKeeper would do.
#include <gtest/gtest.h>

#include "properties/sim_harness.h"

namespace lockstep::sim::testing {
namespace {

using namespace std::chrono_literals;

struct Log {
  std::vector<SessionEvent> events;
  std::vector<double> event_times;
  std::shared_ptr<Session> session;
  std::vector<Error> errors;
  std::vector<WatchEventType> watch_events;
  double watch_time = -1;
  double t0 = -1, t1 = -1;
  bool done = false;
};

Task<void> record_events(SimHarness* h, std::shared_ptr<Session> s, Log* log) {
  for (;;) {
    SessionEvent e = co_await s->next_event();
    log->events.push_back(e);
    log->event_times.push_back(h->now_s());
    if (e == SessionEvent::Expired || e == SessionEvent::Closed) co_return;
  }
}

// Connects, records session events, creates an ephemeral node.
Task<void> owner(SimHarness* h, int me, std::string path, Log* log) {
  ConnectReply c = co_await h->store().connect(h->client(me), 4s);
  log->session = c.session;
  h->client(me).spawn(record_events(h, c.session, log));
  CreateReply r = co_await c.session->create(path, "x", CreateMode::Ephemeral);
  log->errors.push_back(r.err);
  log->done = true;
}

// Connects and watches `path` for deletion.
Task<void> watcher(SimHarness* h, int me, std::string path, Log* log) {
  ConnectReply c = co_await h->store().connect(h->client(me), 4s);
  log->session = c.session;
  h->client(me).spawn(record_events(h, c.session, log));
  for (;;) {
    ExistsReply e = co_await c.session->exists(path, true);
    if (e.err == Error::NoNode) {
      co_await e.watch;  // wait for the creation
      continue;
    }
    WatchEvent ev = co_await e.watch;
    log->watch_events.push_back(ev.type);
    log->watch_time = h->now_s();
    co_return;
  }
}

TEST(SimFaults, PingsKeepAnIdleSessionAlive) {
  SimHarness h(1);
  Log log;
  h.spawn(0, owner(&h, 0, "/idle", &log));
  h.run_until(60s);
  ASSERT_TRUE(log.done);
  EXPECT_EQ(log.session->state(), SessionState::Connected);
  EXPECT_TRUE(h.server().tree().contains("/idle"));
  EXPECT_TRUE(log.events.empty()) << "nothing after the connect";
}

TEST(SimFaults, PauseLongerThanTimeoutExpiresSessionRemovesEphemeralsAndFiresWatches) {
  SimHarness h(2, 1, R"([{"kind":"pause","client":0,"at":"1s","for":"10s"}])");
  Log own, watch;
  h.spawn(0, owner(&h, 0, "/eph", &own));
  h.spawn(1, watcher(&h, 1, "/eph", &watch));
  h.run_until(5s);
  EXPECT_TRUE(h.server().tree().contains("/eph")) << "alive before the timeout";
  h.run_until(9s);
  // Expired on the server's clock: 4 s without a ping, rounded up to a 2 s tick.
  EXPECT_FALSE(h.server().tree().contains("/eph"));
  EXPECT_EQ(watch.watch_events, std::vector<WatchEventType>{WatchEventType::Deleted});
  EXPECT_GT(watch.watch_time, 5.0);
  EXPECT_LT(watch.watch_time, 7.1);
  // The paused client has seen nothing yet: it learns on resume.
  EXPECT_TRUE(own.events.empty());
  h.run_until(15s);
  EXPECT_EQ(own.events,
            (std::vector<SessionEvent>{SessionEvent::Suspended, SessionEvent::Expired}));
  EXPECT_GE(own.event_times[0], 11.0);
}

// Creates an ephemeral node, watches it, and logs the watch and the session's events in
// the order the client hears them.
Task<void> self_watching_owner(SimHarness* h, int me, std::string path,
                               std::vector<std::string>* heard) {
  ConnectReply c = co_await h->store().connect(h->client(me), 4s);
  auto events = [](std::shared_ptr<Session> s, std::vector<std::string>* heard) -> Task<void> {
    for (;;) {
      SessionEvent e = co_await s->next_event();
      heard->push_back(std::string(session_event_name(e)));
      if (e == SessionEvent::Expired || e == SessionEvent::Closed) co_return;
    }
  };
  h->client(me).spawn(events(c.session, heard));
  co_await c.session->create(path, "x", CreateMode::Ephemeral);
  ExistsReply e = co_await c.session->exists(path, true);
  WatchEvent ev = co_await e.watch;
  heard->push_back("watch " + std::string(watch_event_name(ev.type)));
}

// ZooKeeper applies a timed-out session's closeSession (its ephemerals go, firing every
// watch still registered, its own too) before it closes the connection, so the owner's
// notifications wait in its socket. A client paused past its timeout never reads them:
// on resume the C client first finds its connection silent for too long
// (zookeeper_interest: "timed out (exceeded timeout by ...ms)"), closes the socket with
// them unread, and hears its watches end with the session. Seen on ZooKeeper 3.8 with a
// C client that watched its own ephemeral and stopped itself for 12 s past a 4 s
// timeout, three times out of three (docs/findings.md L13).
TEST(SimFaults, APausedClientNeverReadsItsOwnWatchesNotifications) {
  SimHarness h(1, 1, R"([{"kind":"pause","client":0,"at":"1s","for":"10s"}])");
  std::vector<std::string> heard;
  h.spawn(0, self_watching_owner(&h, 0, "/eph", &heard));
  h.run_until(9s);
  EXPECT_FALSE(h.server().tree().contains("/eph"));
  EXPECT_TRUE(heard.empty()) << "paused: nothing heard yet";
  h.run_until(20s);
  EXPECT_EQ(heard, (std::vector<std::string>{"suspended", "watch session_ended", "expired"}));
}

TEST(SimFaults, ShortPauseKeepsTheSession) {
  SimHarness h(1, 1, R"([{"kind":"pause","client":0,"at":"1s","for":"1s"}])");
  Log own;
  h.spawn(0, owner(&h, 0, "/eph", &own));
  h.run_until(20s);
  EXPECT_TRUE(own.events.empty());
  EXPECT_TRUE(h.server().tree().contains("/eph"));
}

TEST(SimFaults, PartitionSuspendsThenReconnectsAndWatchesSurvive) {
  // Client 1 watches /eph; it is cut off for 3 s (more than 2/3 of 4 s, less than the
  // expiry); client 0 deletes /eph meanwhile; the watch fires after the reconnect.
  SimHarness h(2, 3, R"([{"kind":"partition","client":1,"at":"1s","for":"3s"}])");
  Log own, watch;
  h.spawn(0, owner(&h, 0, "/eph", &own));
  h.spawn(1, watcher(&h, 1, "/eph", &watch));
  h.run_until(2s);
  h.spawn(0, [](Log* log) -> Task<void> {
    Error e = co_await log->session->remove("/eph", -1);
    log->errors.push_back(e);
  }(&own));
  h.run_until(15s);
  ASSERT_EQ(own.errors.size(), 2u);
  EXPECT_EQ(own.errors[1], Error::Ok);
  EXPECT_EQ(watch.events,
            (std::vector<SessionEvent>{SessionEvent::Suspended, SessionEvent::Reconnected}));
  EXPECT_EQ(watch.watch_events, std::vector<WatchEventType>{WatchEventType::Deleted});
  EXPECT_GT(watch.watch_time, 4.0) << "delivered only once reconnected";
  EXPECT_EQ(watch.session->state(), SessionState::Connected);
}

Task<void> timed_sleep(SimHarness* h, int me, Duration d, Log* log) {
  co_await h->client(me).sleep_for(100ms);
  log->t0 = h->now_s();
  co_await h->client(me).sleep_for(d);
  log->t1 = h->now_s();
}

TEST(SimFaults, DoubleRateClockHalvesALocalSleep) {
  SimHarness h(1, 1, R"([{"kind":"clock","client":0,"at":"0s","drift":"100%"}])");
  Log log;
  h.spawn(0, timed_sleep(&h, 0, 1s, &log));
  h.run_until(5s);
  EXPECT_NEAR(log.t1 - log.t0, 0.5, 1e-6);
}

TEST(SimFaults, ClockJumpForwardWakesTimersEarly) {
  SimHarness h(1, 1, R"([{"kind":"clock","client":0,"at":"1s","jump":"+5s"}])");
  Log log;
  h.spawn(0, timed_sleep(&h, 0, 10s, &log));
  h.run_until(20s);
  EXPECT_NEAR(log.t1 - log.t0, 5.0, 1e-6);
}

Task<void> create_once(SimHarness* h, int me, std::string path, Log* log) {
  ConnectReply c = co_await h->store().connect(h->client(me), 4s);
  log->session = c.session;
  h->client(me).spawn(record_events(h, c.session, log));
  co_await h->client(me).sleep_for(1s);
  CreateReply r = co_await c.session->create(path, "x", CreateMode::Persistent);
  log->errors.push_back(r.err);
  log->done = true;
}

TEST(SimFaults, DropReplyOnCreateLeavesTheNodeWhileTheClientSeesConnectionLoss) {
  SimHarness h(1, 1, R"([{"kind":"drop_reply","client":0,"at":"500ms","op":"create"}])");
  Log log;
  h.spawn(0, create_once(&h, 0, "/applied", &log));
  h.run_until(10s);
  ASSERT_EQ(log.errors.size(), 1u);
  EXPECT_EQ(log.errors[0], Error::ConnectionLoss);
  EXPECT_TRUE(h.server().tree().contains("/applied"));
  EXPECT_EQ(log.events,
            (std::vector<SessionEvent>{SessionEvent::Suspended, SessionEvent::Reconnected}));
}

Task<void> create_ttl(SimHarness* h, int me, Log* log) {
  ConnectReply c = co_await h->store().connect(h->client(me), 4s);
  CreateReply r = co_await c.session->create("/ttl", "", CreateMode::PersistentWithTtl, 30s);
  log->errors.push_back(r.err);
}

TEST(SimFaults, ServerClockJumpExpiresTtlNodesEarly) {
  SimHarness h(1, 1, R"([{"kind":"clock","client":"server","at":"2s","jump":"+60s"}])");
  Log log;
  h.spawn(0, create_ttl(&h, 0, &log));
  h.run_until(1s);
  ASSERT_EQ(log.errors, std::vector<Error>{Error::Ok});
  EXPECT_TRUE(h.server().tree().contains("/ttl"));
  h.run_until(3s);
  EXPECT_FALSE(h.server().tree().contains("/ttl")) << "30 s TTL gone 3 s in, by the server clock";
}

// ZooKeeper expires sessions on elapsed (monotonic) time and TTL nodes on wall time: a
// step of the server's wall clock takes the TTL node and leaves the session and its
// ephemeral alone.
TEST(SimFaults, ServerClockJumpMovesTheWallClockOnlySessionsLive) {
  SimHarness h(1, 1, R"([{"kind":"clock","client":"server","at":"2s","jump":"+60s"}])");
  Log ttl, own;
  h.spawn(0, create_ttl(&h, 0, &ttl));
  h.spawn(0, owner(&h, 0, "/eph", &own));
  h.run_until(30s);
  EXPECT_FALSE(h.server().tree().contains("/ttl"));
  EXPECT_TRUE(h.server().tree().contains("/eph")) << "the session outlives a wall-clock step";
  EXPECT_TRUE(own.events.empty());
}

// A drift is the server's oscillator: the session tracker runs on it too, so a server
// clock at 10% speed lets a silent session live ten times its timeout.
TEST(SimFaults, ServerClockDriftSlowsSessionExpiry) {
  SimHarness h(2, 1,
               R"([{"kind":"clock","client":"server","at":"0s","drift":"-90%"},)"
               R"({"kind":"pause","client":0,"at":"1s","for":"20s"}])");
  Log own;
  h.spawn(0, owner(&h, 0, "/eph", &own));
  h.run_until(15s);
  EXPECT_TRUE(h.server().tree().contains("/eph")) << "4 s of server time take 40 s";
}

TEST(SimFaults, TtlNodeLivesItsTtlWithoutAJump) {
  SimHarness h(1);
  Log log;
  h.spawn(0, create_ttl(&h, 0, &log));
  h.run_until(29s);
  EXPECT_TRUE(h.server().tree().contains("/ttl"));
  h.run_until(32s);
  EXPECT_FALSE(h.server().tree().contains("/ttl"));
}

TEST(SimFaults, ServerStallExpiresEverySessionAtOnce) {
  SimHarness h(3, 1, R"([{"kind":"server_stall","at":"1s","for":"8s"}])");
  Log logs[3];
  for (int i = 0; i < 3; ++i) h.spawn(i, owner(&h, i, "/n" + std::to_string(i), &logs[i]));
  h.run_until(30s);
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(h.server().tree().contains("/n" + std::to_string(i)));
    ASSERT_FALSE(logs[i].events.empty());
    EXPECT_EQ(logs[i].events.back(), SessionEvent::Expired) << "client " << i;
  }
}

TEST(SimFaults, ExpireSessionOnDemand) {
  SimHarness h(1, 1, R"([{"kind":"expire_session","client":0,"at":"2s"}])");
  Log log;
  h.spawn(0, owner(&h, 0, "/eph", &log));
  h.run_until(1s);
  EXPECT_TRUE(h.server().tree().contains("/eph"));
  h.run_until(10s);
  EXPECT_FALSE(h.server().tree().contains("/eph"));
  EXPECT_EQ(log.events.back(), SessionEvent::Expired);
}

// After close() every call is refused with Closing (core/store.h), even when the session
// had expired first: the C client frees the handle, so the live adapter can say nothing
// else (found by the differential test's long run, docs/live.md).
Task<void> expire_then_close(SimHarness* h, std::vector<Error>* refusals) {
  ConnectReply c = co_await h->store().connect(h->client(0), 4s);
  while (c.session->state() != SessionState::Expired) co_await h->client(0).sleep_for(100ms);
  refusals->push_back((co_await c.session->get("/")).err);
  co_await c.session->close();
  refusals->push_back((co_await c.session->get("/")).err);
  refusals->push_back((co_await c.session->create("/x", "", CreateMode::Persistent)).err);
}

TEST(SimFaults, AnExpiredSessionClosedByItsClientRefusesWithClosing) {
  SimHarness h(1, 1, R"([{"kind":"expire_session","client":0,"at":"2s"}])");
  std::vector<Error> refusals;
  h.spawn(0, expire_then_close(&h, &refusals));
  h.run_until(20s);
  EXPECT_EQ(refusals, (std::vector<Error>{Error::SessionExpired, Error::Closing, Error::Closing}));
}

TEST(SimFaults, CrashedClientsEphemeralsGoAtSessionExpiry) {
  SimHarness h(2, 1, R"([{"kind":"crash","client":0,"at":"1s"}])");
  Log own, watch;
  h.spawn(0, owner(&h, 0, "/eph", &own));
  h.spawn(1, watcher(&h, 1, "/eph", &watch));
  h.run_until(4s);
  EXPECT_TRUE(h.server().tree().contains("/eph")) << "a crash is not a close";
  h.run_until(10s);
  EXPECT_FALSE(h.server().tree().contains("/eph"));
  EXPECT_EQ(watch.watch_events, std::vector<WatchEventType>{WatchEventType::Deleted});
  EXPECT_FALSE(h.client(0).alive());
}

Task<void> timed_get(SimHarness* h, int me, Log* log) {
  ConnectReply c = co_await h->store().connect(h->client(me), 4s);
  h->client(me).spawn(record_events(h, c.session, log));
  co_await h->client(me).sleep_for(2s);
  log->t0 = h->now_s();
  GetReply r = co_await c.session->get("/", false);
  log->t1 = h->now_s();
  log->errors.push_back(r.err);
}

TEST(SimFaults, LatencySpikeSlowsRequests) {
  SimHarness h(1, 1, R"([{"kind":"latency","at":"1s","for":"5s","min":"300ms","max":"300ms"}])");
  Log log;
  h.spawn(0, timed_get(&h, 0, &log));
  h.run_until(10s);
  ASSERT_EQ(log.errors, std::vector<Error>{Error::Ok});
  EXPECT_GE(log.t1 - log.t0, 0.6);
}

TEST(SimFaults, ShortPartitionDelaysRequestsUntilItHeals) {
  // 1 s is less than 2/3 of the 4 s timeout: the connection survives, as TCP's
  // retransmissions get the request through once the partition heals.
  SimHarness h(1, 1, R"([{"kind":"partition","client":0,"at":"1900ms","for":"1s"}])");
  Log log;
  h.spawn(0, timed_get(&h, 0, &log));
  h.run_until(10s);
  ASSERT_EQ(log.errors, std::vector<Error>{Error::Ok});
  EXPECT_GE(log.t1, 2.9);
  EXPECT_LT(log.t1, 3.0);
  EXPECT_TRUE(log.events.empty()) << "no disconnect";
}

TEST(SimFaults, LossBreaksTheConnectionAsTcpWould) {
  SimHarness h(1, 1, R"([{"kind":"loss","at":"1s","for":"1s","probability":1}])");
  Log log;
  h.spawn(0, timed_get(&h, 0, &log));  // connects first, pings through the window
  h.run_until(10s);
  ASSERT_EQ(log.errors.size(), 1u);
  EXPECT_EQ(log.errors[0], Error::Ok) << "after the window the request goes through";
  ASSERT_GE(log.events.size(), 2u);
  EXPECT_EQ(log.events[0], SessionEvent::Suspended);
  EXPECT_EQ(log.events.back(), SessionEvent::Reconnected);
}

}  // namespace
}  // namespace lockstep::sim::testing

namespace lockstep::sim::testing {
namespace {

using namespace std::chrono_literals;

TEST(SimFaults, StoreCrashWithDataKeepsSessionsThatReconnectInTime) {
  SimHarness h(
      1, 1, R"([{"kind":"store_crash","store":0,"at":"1s","restart_after":"1s","persist":true}])");
  Log log;
  h.spawn(0, owner(&h, 0, "/eph", &log));
  h.run_until(1500ms);
  EXPECT_FALSE(h.server().up());
  h.run_until(20s);
  EXPECT_TRUE(h.server().up());
  EXPECT_TRUE(h.server().tree().contains("/eph")) << "the session survived the restart";
  ASSERT_FALSE(log.events.empty());
  EXPECT_EQ(log.events.front(), SessionEvent::Suspended);
  EXPECT_EQ(log.events.back(), SessionEvent::Reconnected);
}

TEST(SimFaults, StoreCrashWithoutDataLosesEverything) {
  SimHarness h(
      1, 1, R"([{"kind":"store_crash","store":0,"at":"1s","restart_after":"1s","persist":false}])");
  Log log;
  h.spawn(0, owner(&h, 0, "/eph", &log));
  h.run_until(20s);
  EXPECT_FALSE(h.server().tree().contains("/eph"));
  ASSERT_FALSE(log.events.empty());
  EXPECT_EQ(log.events.back(), SessionEvent::Expired) << "the restarted server knows no session";
}

}  // namespace
}  // namespace lockstep::sim::testing
