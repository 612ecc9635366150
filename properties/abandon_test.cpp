// Session::abandon (core/store.h): a client gives its session up on its own clock, as
// Curator's injectSessionExpiration does, and the server, not told, keeps the session and
// its ephemerals until it expires it. In the simulator and on the in-process local: store
// (the live adapter's test is in live_store_test.cpp).
#include <gtest/gtest.h>

#include "properties/sim_harness.h"
#include "real/event_loop.h"
#include "real/live_env.h"
#include "real/local_store.h"

namespace lockstep {
namespace {

using namespace std::chrono_literals;

struct Seen {
  std::shared_ptr<Session> session;
  Error abandoned = Error::SystemError;
  Error again = Error::SystemError;
  Error pending = Error::SystemError;
  Error after = Error::SystemError;
  SessionEvent event = SessionEvent::Connected;
  WatchEventType watch = WatchEventType::Created;
  bool done = false;
};

// Creates /eph, watches it, then (at 1 s) sends a read it never sees answered (the client
// is cut off from 900 ms) and gives the session up.
Task<void> give_up(sim::testing::SimHarness* h, Seen* seen) {
  ConnectReply c = co_await h->store().connect(h->client(0), 4s);
  seen->session = c.session;
  co_await c.session->create("/eph", "", CreateMode::Ephemeral);
  GetReply watched = co_await c.session->get("/eph", true);
  co_await h->client(0).sleep_for(1s);
  Future<GetReply> pending = c.session->get("/eph");
  Future<SessionEvent> event = c.session->next_event();
  seen->abandoned = c.session->abandon();
  seen->again = c.session->abandon();
  seen->pending = (co_await pending).err;
  seen->event = co_await event;
  seen->watch = (co_await watched.watch).type;
  seen->after = (co_await c.session->exists("/eph")).err;
  seen->done = true;
}

TEST(Abandon, TheSimulatedServerKeepsTheSessionUntilItExpiresIt) {
  sim::testing::SimHarness h(1, 1, R"([{"kind":"partition","client":0,"at":"900ms","for":"30s"}])");
  Seen seen;
  h.spawn(0, give_up(&h, &seen));
  h.run_until(1200ms);
  ASSERT_TRUE(seen.done);
  EXPECT_EQ(seen.abandoned, Error::Ok);
  EXPECT_EQ(seen.again, Error::SessionExpired);
  EXPECT_EQ(seen.pending, Error::SessionExpired);
  EXPECT_EQ(seen.event, SessionEvent::Expired);
  EXPECT_EQ(seen.watch, WatchEventType::SessionEnded);
  EXPECT_EQ(seen.after, Error::SessionExpired);
  EXPECT_EQ(seen.session->state(), SessionState::Expired);
  ASSERT_TRUE(seen.session->ended().ready());
  EXPECT_EQ(seen.session->ended().get(), SessionState::Expired);
  // The server heard the session last before 900 ms: it expires it at the first tick
  // (2 s) after 4 s from then, and only then does the ephemeral go.
  h.run_until(3900ms);
  EXPECT_TRUE(h.server().tree().contains("/eph"));
  EXPECT_EQ(h.server().session_count(), 1u);
  h.run_until(6001ms);
  EXPECT_FALSE(h.server().tree().contains("/eph"));
  EXPECT_EQ(h.server().session_count(), 0u);
}

TEST(Abandon, AnEndedSimulatedSessionCannotBeAbandoned) {
  sim::testing::SimHarness h(1);
  std::shared_ptr<Session> s;
  Error closed = Error::Ok;
  h.spawn(
      0, [](sim::testing::SimHarness* h, std::shared_ptr<Session>* s, Error* closed) -> Task<void> {
        ConnectReply c = co_await h->store().connect(h->client(0), 4s);
        *s = c.session;
        co_await c.session->close();
        *closed = c.session->abandon();
      }(&h, &s, &closed));
  h.run_until(1s);
  EXPECT_EQ(closed, Error::Closing);
}

// The local: store has no connection to lose; a session given up stops pinging and the
// store's reaper expires it after its timeout, not before.
TEST(Abandon, TheLocalStoreKeepsTheSessionUntilItsTimeoutLapses) {
  real::LocalStore store;
  real::EventLoop loop;
  real::LiveEnv env(loop, 0, 1);
  struct {
    Error abandoned = Error::SystemError, after = Error::SystemError;
    Error right_after = Error::SystemError, later = Error::SystemError;
    int64_t owner = 0, id = 0;
    bool done = false;
  } seen;
  env.spawn([](real::LocalStore* store, Env* env, decltype(seen)* seen) -> Task<void> {
    ConnectReply first = co_await store->connect(*env, 300ms);
    ConnectReply other = co_await store->connect(*env, 10s);
    co_await first.session->create("/eph", "", CreateMode::Ephemeral);
    seen->id = first.session->id();
    seen->abandoned = first.session->abandon();
    seen->after = (co_await first.session->exists("/eph")).err;
    first.session.reset();  // the object going does not end it either
    ExistsReply there = co_await other.session->exists("/eph");
    seen->right_after = there.err;
    seen->owner = there.stat.ephemeral_owner;
    co_await env->sleep_for(1s);
    seen->later = (co_await other.session->exists("/eph")).err;
    co_await other.session->close();
    seen->done = true;
  }(&store, &env, &seen));
  loop.run_until([&] { return seen.done; }, real::EventLoop::Clock::now() + 10s);
  store.detach(&loop);
  ASSERT_TRUE(seen.done);
  EXPECT_EQ(seen.abandoned, Error::Ok);
  EXPECT_EQ(seen.after, Error::SessionExpired);
  EXPECT_EQ(seen.right_after, Error::Ok);
  EXPECT_EQ(seen.owner, seen.id);
  EXPECT_EQ(seen.later, Error::NoNode);
}

}  // namespace
}  // namespace lockstep
