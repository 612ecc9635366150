// The history records every session event the client library gives, even two given in
// one instant. A live run caught it: on SIGCONT the ZooKeeper C client reported the
// connection lost and the session expired back to back, and the recorder, still busy
// with the first, never heard of the expiry.
#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "core/executor.h"
#include "core/history.h"
#include "core/store.h"
#include "core/task.h"
#include "core/workload.h"

namespace lockstep {
namespace {

// Runs posted work when told to, as an event loop between two callbacks.
class QueueExecutor final : public Executor {
 public:
  void post(Callback fn) override { queue_.push_back(std::move(fn)); }
  void drain() {
    ExecutorScope scope(this);
    while (!queue_.empty()) {
      Callback fn = std::move(queue_.front());
      queue_.pop_front();
      fn();
    }
  }

 private:
  std::deque<Callback> queue_;
};

// A session whose events the test gives, the way the stores give them: the state
// changes, then the waits begun so far are told.
class ScriptedSession final : public Session {
 public:
  void give(SessionState s, SessionEvent e) {
    state_ = s;
    Promise<SessionEvent> p = std::exchange(next_, Promise<SessionEvent>{});
    p.set(e);
  }
  Future<SessionEvent> next_event() override { return next_.future(); }
  SessionState state() const override { return state_; }

  Future<CreateReply> create(const std::string&, const std::string&, CreateMode,
                             Duration) override {
    return Future<CreateReply>::ready_with(CreateReply{Error::Unimplemented, {}, {}});
  }
  Future<Error> remove(const std::string&, int32_t) override {
    return Future<Error>::ready_with(Error::Unimplemented);
  }
  Future<GetReply> get(const std::string&, bool) override {
    return Future<GetReply>::ready_with(GetReply{Error::Unimplemented, {}, {}, {}});
  }
  Future<ExistsReply> exists(const std::string&, bool) override {
    return Future<ExistsReply>::ready_with(ExistsReply{Error::Unimplemented, {}, {}});
  }
  Future<ChildrenReply> children(const std::string&, bool) override {
    return Future<ChildrenReply>::ready_with(ChildrenReply{Error::Unimplemented, {}, {}, {}});
  }
  Future<SetReply> set(const std::string&, const std::string&, int32_t) override {
    return Future<SetReply>::ready_with(SetReply{Error::Unimplemented, {}});
  }
  Future<MultiReply> multi(const std::vector<Op>&) override {
    return Future<MultiReply>::ready_with(MultiReply{Error::Unimplemented, {}});
  }
  Future<Unit> close() override { return Future<Unit>::ready_with(Unit{}); }
  int64_t id() const override { return 1; }
  Duration timeout() const override { return std::chrono::seconds(4); }
  Future<SessionState> ended() override { return ended_.future(); }

 private:
  SessionState state_ = SessionState::Connected;
  Promise<SessionEvent> next_;
  Promise<SessionState> ended_;
};

class Details final : public Recorder {
 public:
  void record(HistoryEvent e) override { details.push_back(e.detail); }
  std::vector<std::string> details;
};

struct Harness {
  QueueExecutor loop;
  std::shared_ptr<ScriptedSession> session = std::make_shared<ScriptedSession>();
  Details recorder;
  std::unique_ptr<RootTask> task;
  Harness() {
    task = std::make_unique<RootTask>(record_session_events(session, recorder, 0, " x"));
    loop.post([this] { task->start(); });
    loop.drain();
  }
};

TEST(SessionEvents, EachEventIsRecordedInOrder) {
  Harness h;
  h.session->give(SessionState::Suspended, SessionEvent::Suspended);
  h.loop.drain();
  h.session->give(SessionState::Connected, SessionEvent::Reconnected);
  h.loop.drain();
  h.session->give(SessionState::Expired, SessionEvent::Expired);
  h.loop.drain();
  EXPECT_EQ(h.recorder.details,
            (std::vector<std::string>{"suspended x", "reconnected x", "expired x"}));
  EXPECT_TRUE(h.task->finished());
}

TEST(SessionEvents, TwoEventsInOneInstantAreBothRecorded) {
  Harness h;
  h.session->give(SessionState::Suspended, SessionEvent::Suspended);
  h.session->give(SessionState::Expired, SessionEvent::Expired);
  h.loop.drain();
  EXPECT_EQ(h.recorder.details, (std::vector<std::string>{"suspended x", "expired x"}));
  EXPECT_TRUE(h.task->finished());
}

TEST(SessionEvents, AnEventBeforeTheFirstWaitIsRecorded) {
  QueueExecutor loop;
  auto session = std::make_shared<ScriptedSession>();
  Details recorder;
  RootTask task(record_session_events(session, recorder, 0, ""));
  session->give(SessionState::Suspended, SessionEvent::Suspended);  // before it runs
  loop.post([&task] { task.start(); });
  loop.drain();
  session->give(SessionState::Closed, SessionEvent::Closed);
  loop.drain();
  EXPECT_EQ(recorder.details, (std::vector<std::string>{"suspended", "closed"}));
  EXPECT_TRUE(task.finished());
}

}  // namespace
}  // namespace lockstep
