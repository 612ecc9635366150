// The checkers on hand-built histories: each must be able to fail, and must not fail on
// what is allowed (hand-overs at one instant, beliefs ended by a lost signal).
#include "core/check/checker.h"

#include <gtest/gtest.h>

namespace lockstep {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

class HistoryBuilder {
 public:
  HistoryBuilder& at(Time t, int client, EventKind kind, std::optional<uint64_t> token = {},
                     std::string detail = {}) {
    return span(t, t, client, kind, token, std::move(detail));
  }
  HistoryBuilder& span(Time lo, Time hi, int client, EventKind kind,
                       std::optional<uint64_t> token = {}, std::string detail = {}) {
    HistoryEvent e;
    e.lo = lo;
    e.hi = hi;
    e.client = client;
    e.kind = kind;
    e.token = token;
    e.detail = std::move(detail);
    h_.add(e);
    return *this;
  }
  // A whole cycle: acquire start, acquired, release start, released.
  HistoryBuilder& cycle(int client, Time from, Time to, std::optional<uint64_t> token = {}) {
    at(from, client, EventKind::AcquireStart);
    at(from, client, EventKind::Acquired, token);
    at(to, client, EventKind::ReleaseStart);
    return at(to, client, EventKind::Released);
  }
  const History& history() const { return h_; }

 private:
  History h_;
};

TEST(CheckerMutualExclusion, DisjointGrantsHold) {
  HistoryBuilder b;
  b.cycle(0, milliseconds(1), milliseconds(5), 1)
      .cycle(1, milliseconds(6), milliseconds(9), 2)
      .cycle(2, milliseconds(10), milliseconds(12), 3);
  Verdict v = check_mutual_exclusion(b.history());
  EXPECT_EQ(v.checker, "mutual-exclusion");
  EXPECT_TRUE(v.ok) << v.summary;
  EXPECT_EQ(v.summary, "holds: 3 grants, no overlap");
  EXPECT_TRUE(v.details.empty());
}

TEST(CheckerMutualExclusion, OverlappingGrantsAreReported) {
  HistoryBuilder b;
  b.at(milliseconds(1000), 1, EventKind::Acquired, 5)
      .at(microseconds(1002100), 3, EventKind::Acquired, 7)
      .at(milliseconds(5100), 1, EventKind::ReleaseStart)
      .at(milliseconds(6000), 3, EventKind::ReleaseStart);
  Verdict v = check_mutual_exclusion(b.history());
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.summary,
            "VIOLATED: 1 overlapping pair of holds (client 1 and client 3 both held during "
            "[1.002100s, 5.100000s])");
  ASSERT_EQ(v.details.size(), 1u);
  EXPECT_NE(v.details[0].find("client 1 (token 5) held [1.000000s, 5.100000s]"), std::string::npos)
      << v.details[0];
  EXPECT_NE(v.details[0].find("client 3 (token 7) held [1.002100s, 6.000000s]"), std::string::npos)
      << v.details[0];
  EXPECT_EQ(v.clients, (std::vector<int>{1, 3})) << "the clients, as fields";
}

TEST(CheckerMutualExclusion, EveryOverlappingPairIsListed) {
  HistoryBuilder b;
  b.cycle(0, milliseconds(0), milliseconds(10))
      .cycle(1, milliseconds(2), milliseconds(4))
      .cycle(2, milliseconds(6), milliseconds(8))
      .cycle(0, milliseconds(20), milliseconds(30));
  Verdict v = check_mutual_exclusion(b.history());
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.details.size(), 2u);
  EXPECT_EQ(v.summary.rfind("VIOLATED: 2 overlapping pairs of holds", 0), 0u) << v.summary;
  EXPECT_EQ(v.clients, (std::vector<int>{0, 1, 2}));
  EXPECT_TRUE(check_mutual_exclusion(HistoryBuilder().history()).clients.empty());
}

TEST(CheckerMutualExclusion, TheCountIsOfPairs) {
  // Three clients holding at once are three overlapping pairs, not three grants.
  HistoryBuilder b;
  b.cycle(0, milliseconds(0), milliseconds(10))
      .cycle(1, milliseconds(1), milliseconds(10))
      .cycle(2, milliseconds(2), milliseconds(10));
  Verdict v = check_mutual_exclusion(b.history());
  EXPECT_EQ(v.details.size(), 3u);
  EXPECT_EQ(v.summary.rfind("VIOLATED: 3 overlapping pairs of holds (client 0 and client 1", 0), 0u)
      << v.summary;
}

TEST(CheckerMutualExclusion, TouchingGrantsHold) {
  HistoryBuilder b;
  b.cycle(0, milliseconds(1), milliseconds(5)).cycle(1, milliseconds(5), milliseconds(9));
  Verdict v = check_mutual_exclusion(b.history());
  EXPECT_TRUE(v.ok) << v.summary;
}

TEST(CheckerMutualExclusion, SameClientNeverConflictsWithItself) {
  HistoryBuilder b;
  b.at(milliseconds(1), 0, EventKind::Acquired).at(milliseconds(2), 0, EventKind::Acquired);
  b.at(milliseconds(3), 0, EventKind::ReleaseStart);
  EXPECT_TRUE(check_mutual_exclusion(b.history()).ok);
}

TEST(CheckerMutualExclusion, LostObservedEndsBelief) {
  HistoryBuilder b;
  b.at(milliseconds(1), 0, EventKind::Acquired, 1)
      .at(milliseconds(4), 0, EventKind::LostObserved)
      .at(milliseconds(5), 1, EventKind::Acquired, 2)
      .at(milliseconds(8), 0, EventKind::ReleaseStart)  // releasing, no longer believing
      .at(milliseconds(9), 1, EventKind::ReleaseStart);
  Verdict v = check_mutual_exclusion(b.history());
  EXPECT_TRUE(v.ok) << v.summary;
  auto beliefs = belief_intervals(b.history());
  ASSERT_EQ(beliefs.size(), 2u);
  EXPECT_EQ(beliefs[0].end, milliseconds(4));
  EXPECT_EQ(beliefs[0].ended_by, EventKind::LostObserved);
}

TEST(CheckerMutualExclusion, CrashEndsBelief) {
  HistoryBuilder b;
  b.at(milliseconds(1), 0, EventKind::Acquired)
      .at(milliseconds(3), 0, EventKind::ClientCrashed)
      .at(milliseconds(5), 1, EventKind::Acquired)
      .at(milliseconds(7), 1, EventKind::ReleaseStart);
  EXPECT_TRUE(check_mutual_exclusion(b.history()).ok);
}

TEST(CheckerMutualExclusion, UnfinishedBeliefExtendsToTheEnd) {
  HistoryBuilder b;
  b.at(milliseconds(1), 0, EventKind::Acquired, 1)
      .at(milliseconds(50), 1, EventKind::Acquired, 2)
      .at(milliseconds(60), 1, EventKind::ReleaseStart)
      .at(milliseconds(70), 2, EventKind::Note);
  Verdict v = check_mutual_exclusion(b.history());
  EXPECT_FALSE(v.ok);
  EXPECT_NE(v.summary.find("[0.050000s, 0.060000s]"), std::string::npos) << v.summary;
  auto beliefs = belief_intervals(b.history());
  ASSERT_EQ(beliefs.size(), 2u);
  EXPECT_TRUE(beliefs[0].open);
  EXPECT_EQ(beliefs[0].end, milliseconds(70));
  EXPECT_NE(v.details[0].find("still held at the end"), std::string::npos) << v.details[0];
}

TEST(CheckerMutualExclusion, TwoBeliefsOpenAtTheEndOverlap) {
  // Client 1's grant is the history's last event: its belief has no length yet, but
  // both clients believe they hold the lock when the history ends.
  HistoryBuilder b;
  b.at(milliseconds(1), 0, EventKind::Acquired).at(milliseconds(9), 1, EventKind::Acquired);
  Verdict v = check_mutual_exclusion(b.history());
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.summary,
            "VIOLATED: 1 overlapping pair of holds (client 0 and client 1 both held during "
            "[0.009000s, the end of the history])");
}

TEST(CheckerMutualExclusion, MeasuredIntervalsReportOnlyCertainOverlap) {
  // Live stamps: client 0 releases somewhere in [10, 14] ms, client 1 acquired somewhere
  // in [9, 12] ms. They may have overlapped, but not certainly: no violation.
  HistoryBuilder b;
  b.span(milliseconds(0), milliseconds(1), 0, EventKind::Acquired)
      .span(milliseconds(10), milliseconds(14), 0, EventKind::ReleaseStart)
      .span(milliseconds(9), milliseconds(12), 1, EventKind::Acquired)
      .span(milliseconds(20), milliseconds(21), 1, EventKind::ReleaseStart);
  EXPECT_TRUE(check_mutual_exclusion(b.history()).ok);

  // Acquired certainly by 9 ms while the other certainly still held until 10 ms.
  HistoryBuilder c;
  c.span(milliseconds(0), milliseconds(1), 0, EventKind::Acquired)
      .span(milliseconds(10), milliseconds(14), 0, EventKind::ReleaseStart)
      .span(milliseconds(8), milliseconds(9), 1, EventKind::Acquired)
      .span(milliseconds(20), milliseconds(21), 1, EventKind::ReleaseStart);
  Verdict v = check_mutual_exclusion(c.history());
  EXPECT_FALSE(v.ok);
  EXPECT_NE(v.summary.find("[0.009000s, 0.010000s]"), std::string::npos) << v.summary;
}

TEST(CheckerMutualExclusion, EmptyHistoryHolds) {
  History h;
  Verdict v = check_mutual_exclusion(h);
  EXPECT_TRUE(v.ok);
  EXPECT_EQ(v.summary, "holds: 0 grants, no overlap");
}

TEST(CheckerFormat, InstantsHaveSixDecimals) {
  EXPECT_EQ(format_instant(microseconds(1002100)), "1.002100s");
  EXPECT_EQ(format_instant(Time(0)), "0.000000s");
  EXPECT_EQ(format_instant(Time(1499)), "0.000001s");
  EXPECT_EQ(format_instant(std::chrono::seconds(120)), "120.000000s");
}

// A complete run: `clients` clients, `cycles` cycles each, one after another.
HistoryBuilder complete_run(int clients, int cycles) {
  HistoryBuilder b;
  Time t{0};
  for (int c = 0; c < clients; ++c) b.at(t, c, EventKind::ClientStart);
  for (int k = 0; k < cycles; ++k)
    for (int c = 0; c < clients; ++c) {
      b.cycle(c, t + milliseconds(1), t + milliseconds(2));
      t += milliseconds(2);
    }
  for (int c = 0; c < clients; ++c) b.at(t, c, EventKind::ClientDone);
  return b;
}

LivenessInput input(int clients, int cycles) {
  LivenessInput in;
  in.clients = clients;
  in.cycles = cycles;
  in.end = std::chrono::seconds(1);
  return in;
}

TEST(CheckerLiveness, CompleteRunHolds) {
  Verdict v = check_liveness(complete_run(3, 4).history(), input(3, 4));
  EXPECT_EQ(v.checker, "liveness");
  EXPECT_TRUE(v.ok) << v.summary;
  EXPECT_EQ(v.summary, "holds: 3 clients completed 4 cycles each, no lock node left");
}

TEST(CheckerLiveness, MissingCyclesFail) {
  HistoryBuilder b = complete_run(2, 3);
  // Client 2 started but never got the lock nor finished.
  b.at(milliseconds(1), 2, EventKind::ClientStart).at(milliseconds(1), 2, EventKind::AcquireStart);
  Verdict v = check_liveness(b.history(), input(3, 3));
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.summary, "VIOLATED: 1 client unfinished, 1 client short of its cycles");
  ASSERT_EQ(v.details.size(), 1u);
  EXPECT_EQ(v.details[0],
            "client 2: acquired the lock in 0 of 3 cycles, not finished at 1.000000s (last "
            "event: acquire_start at 0.001000s)");
  EXPECT_EQ(v.clients, std::vector<int>{2});
}

TEST(CheckerLiveness, SilentClientFails) {
  Verdict v = check_liveness(complete_run(2, 1).history(), input(3, 1));
  EXPECT_FALSE(v.ok);
  ASSERT_EQ(v.details.size(), 1u);
  EXPECT_NE(v.details[0].find("no event recorded"), std::string::npos) << v.details[0];
}

TEST(CheckerLiveness, AcquireFailedFails) {
  HistoryBuilder b = complete_run(2, 2);
  b.at(milliseconds(100), 0, EventKind::AcquireStart)
      .at(milliseconds(130), 0, EventKind::AcquireFailed, {}, "timeout");
  Verdict v = check_liveness(b.history(), input(2, 2));
  EXPECT_FALSE(v.ok);
  EXPECT_NE(v.summary.find("1 failed acquire"), std::string::npos) << v.summary;
  bool found = false;
  for (const auto& d : v.details) found |= d == "client 0: acquire failed at 0.130000s: timeout";
  EXPECT_TRUE(found);
}

TEST(CheckerLiveness, LeftoverNodesFail) {
  LivenessInput in = input(2, 2);
  in.leftover_nodes = {"/locks/a/request-0000000007"};
  Verdict v = check_liveness(complete_run(2, 2).history(), in);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.summary, "VIOLATED: 1 lock node left");
  ASSERT_EQ(v.details.size(), 1u);
  EXPECT_EQ(v.details[0], "lock node left after every session closed: /locks/a/request-0000000007");
  EXPECT_TRUE(v.clients.empty()) << "a node left behind names no client";
}

TEST(CheckerLiveness, NotApplicableWithFaults) {
  LivenessInput in = input(3, 3);
  in.faults = true;
  in.leftover_nodes = {"/locks/a"};
  Verdict v = check_liveness(History{}, in);
  EXPECT_TRUE(v.ok);
  EXPECT_EQ(v.summary, "not applicable: faults injected");
}

}  // namespace
}  // namespace lockstep
