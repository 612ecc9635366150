// The resource and token checkers, and liveness after the quiet phase, on hand-built
// histories: each must be able to fail, and must pass what is allowed.
#include <gtest/gtest.h>

#include "core/check/checker.h"

namespace lockstep {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class Builder {
 public:
  Builder& at(Time t, int client, EventKind kind, std::optional<uint64_t> token = {},
              std::string detail = {}) {
    return span(t, t, client, kind, token, std::move(detail));
  }
  Builder& span(Time lo, Time hi, int client, EventKind kind, std::optional<uint64_t> token = {},
                std::string detail = {}) {
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
  Builder& write(Time t, int client, std::optional<uint64_t> token, int64_t value,
                 std::optional<WriteOutcome> outcome, std::optional<int64_t> zxid = {}) {
    HistoryEvent e;
    e.lo = e.hi = t;
    e.client = client;
    e.kind = EventKind::ResourceWrite;
    e.token = token;
    e.value = value;
    e.outcome = outcome;
    e.zxid = zxid;
    if (outcome) e.detail = write_detail(*outcome, zxid, "");
    h_.add(e);
    return *this;
  }
  // A critical section: grant at `from`, read, accepted write of `value` (zxid), release.
  Builder& cycle(int client, Time from, Time to, std::optional<uint64_t> token, int64_t value,
                 int64_t zxid) {
    at(from, client, EventKind::AcquireStart);
    at(from, client, EventKind::Acquired, token);
    write(from + (to - from) / 2, client, token, value, WriteOutcome::Accepted, zxid);
    at(to, client, EventKind::ReleaseStart);
    return at(to, client, EventKind::Released);
  }
  const History& history() const { return h_; }

 private:
  History h_;
};

Time ms(int64_t n) { return milliseconds(n); }

// ---- fencing ------------------------------------------------------------------------

TEST(CheckerFencing, IncreasingTokensHold) {
  Builder b;
  b.cycle(0, ms(0), ms(10), 5, 1, 100).cycle(1, ms(10), ms(20), 9, 2, 110);
  b.write(ms(30), 0, 5, 3, WriteOutcome::Refused);
  Verdict v = check_fencing(b.history());
  EXPECT_EQ(v.checker, "fencing");
  EXPECT_TRUE(v.ok) << v.summary;
  EXPECT_EQ(v.summary,
            "holds: 2 accepted writes, 1 refused, never an older holder's after a newer one's");
}

TEST(CheckerFencing, AnOlderTokenAcceptedLaterIsAViolation) {
  Builder b;
  b.at(ms(0), 0, EventKind::Acquired, 5);
  b.at(ms(5000), 1, EventKind::Acquired, 9);
  b.write(ms(5500), 1, 9, 1, WriteOutcome::Accepted, 120);
  b.write(ms(11000), 0, 5, 1, WriteOutcome::Accepted, 130);  // the paused holder, unfenced
  Verdict v = check_fencing(b.history());
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.summary,
            "VIOLATED: 1 stale writes accepted (client 0's write with token 5 completed at "
            "11.000000s accepted after client 1's with token 9 completed at 5.500000s); 2 "
            "accepted writes, 0 refused");
  ASSERT_EQ(v.details.size(), 1u);
  EXPECT_NE(v.details[0].find("a lower token accepted after a higher one"), std::string::npos);
  EXPECT_EQ(v.clients, (std::vector<int>{0, 1}));
}

TEST(CheckerFencing, StoreOrderComesFromZxidsNotReplyTimes) {
  // Client 0's write applied first (zxid 100) but its reply reached it late (a pause):
  // in true time it looks later, yet nothing stale was accepted.
  Builder b;
  b.at(ms(0), 0, EventKind::Acquired, 5);
  b.at(ms(5000), 1, EventKind::Acquired, 9);
  b.write(ms(6000), 1, 9, 2, WriteOutcome::Accepted, 120);
  b.write(ms(11000), 0, 5, 1, WriteOutcome::Accepted, 100);
  EXPECT_TRUE(check_fencing(b.history()).ok);
}

TEST(CheckerFencing, AnAcceptedWriteWithoutItsZxidFailsLoudly) {
  // Harmless in true-time order, yet the store's order cannot be known: the checker
  // reports the recording bug instead of judging by a weaker order.
  Builder b;
  b.cycle(0, ms(0), ms(10), 5, 1, 100);
  b.at(ms(10), 1, EventKind::Acquired, 9);
  b.write(ms(15), 1, 9, 2, WriteOutcome::Accepted);
  Verdict v = check_fencing(b.history());
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.summary,
            "INTERNAL ERROR: history event 6 (client 1's resource_write at 0.015000s) has no "
            "zxid (accepted write): a recording bug, the history cannot be judged");
  EXPECT_EQ(v.clients, std::vector<int>{1});
}

TEST(CheckerFencing, AWriteWithoutAnOutcomeFailsLoudly) {
  Builder b;
  b.cycle(0, ms(0), ms(10), 5, 1, 100);
  b.write(ms(15), 0, 5, 2, std::nullopt);
  for (const Verdict& v : {check_fencing(b.history()), check_lost_update(b.history(), {})}) {
    EXPECT_FALSE(v.ok) << v.checker;
    EXPECT_NE(v.summary.find("INTERNAL ERROR: history event 5 (client 0's resource_write"),
              std::string::npos)
        << v.summary;
    EXPECT_NE(v.summary.find("has no write outcome"), std::string::npos) << v.summary;
  }
}

TEST(CheckerFencing, WritesWithoutTokensAreJudgedByGrantOrder) {
  Builder ok;
  ok.cycle(0, ms(0), ms(10), {}, 1, 100).cycle(1, ms(10), ms(20), {}, 2, 110);
  EXPECT_TRUE(check_fencing(ok.history()).ok);

  Builder stale;
  stale.at(ms(0), 0, EventKind::Acquired);
  stale.at(ms(5000), 1, EventKind::Acquired);
  stale.write(ms(5500), 1, {}, 1, WriteOutcome::Accepted, 120);
  stale.write(ms(11000), 0, {}, 2, WriteOutcome::Accepted, 130);
  Verdict v = check_fencing(stale.history());
  EXPECT_FALSE(v.ok);
  ASSERT_EQ(v.details.size(), 1u);
  EXPECT_NE(v.details[0].find("an older holder's write accepted after a newer holder's"),
            std::string::npos)
      << v.details[0];
}

TEST(CheckerFencing, NoWritesHold) { EXPECT_TRUE(check_fencing(History{}).ok); }

// ---- lost update --------------------------------------------------------------------

TEST(CheckerLostUpdate, FinalEqualsAcceptedHolds) {
  Builder b;
  b.cycle(0, ms(0), ms(10), 5, 1, 100).cycle(1, ms(10), ms(20), 9, 2, 110);
  LostUpdateInput in;
  in.final_value = 2;
  Verdict v = check_lost_update(b.history(), in);
  EXPECT_EQ(v.checker, "lost-update");
  EXPECT_TRUE(v.ok) << v.summary;
  EXPECT_EQ(v.summary,
            "holds: final value 2, 2 accepted increments (2 grants, 0 writes refused or failed)");
}

TEST(CheckerLostUpdate, AnOverwrittenIncrementIsReported) {
  Builder b;
  b.at(ms(0), 0, EventKind::Acquired, 5);
  b.at(ms(5000), 1, EventKind::Acquired, 9);
  b.write(ms(5500), 1, 9, 1, WriteOutcome::Accepted, 120);
  b.write(ms(11000), 0, 5, 1, WriteOutcome::Accepted, 130);
  LostUpdateInput in;
  in.final_value = 1;
  Verdict v = check_lost_update(b.history(), in);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.summary,
            "VIOLATED: final value 1, 2 accepted increments (2 grants, 0 writes refused or "
            "failed): 1 lost");
  ASSERT_EQ(v.details.size(), 1u);
  EXPECT_EQ(v.details[0],
            "value 1 written by client 1 (token 9), completed at 5.500000s and client 0 (token "
            "5), completed at 11.000000s: they read the same counter, 1 increment overwritten");
}

// Kleppmann's delayed write: client 0 issued it at 9.9 s, the store applied it at 10.016 s
// (after client 1's, unfenced), and its reply reached client 0 only at 19.018 s, after a
// pause. The report names the moment in the store's order, and says which time it is.
History delayed_stale_write() {
  HistoryEvent newer;
  newer.lo = newer.hi = ms(10010);
  newer.client = 1;
  newer.kind = EventKind::ResourceWrite;
  newer.value = 1;
  newer.outcome = WriteOutcome::Accepted;
  newer.zxid = 120;
  newer.issued = ms(10005);
  newer.applied = ms(10008);
  HistoryEvent stale = newer;
  stale.lo = stale.hi = ms(19018);
  stale.client = 0;
  stale.zxid = 130;
  stale.issued = ms(9900);
  stale.applied = ms(10016);
  Builder b;
  b.at(ms(0), 0, EventKind::Acquired);
  b.at(ms(10000), 1, EventKind::Acquired);
  History h = b.history();
  h.add(newer);
  h.add(stale);
  return h;
}

TEST(CheckerFencing, AStaleWriteIsReportedWhenTheStoreAppliedIt) {
  Verdict v = check_fencing(delayed_stale_write());
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.summary,
            "VIOLATED: 1 stale writes accepted (client 0's write with no token applied at "
            "10.016000s accepted after client 1's with no token applied at 10.008000s); 2 "
            "accepted writes, 0 refused");
  ASSERT_EQ(v.details.size(), 1u);
  EXPECT_NE(v.details[0].find("wrote 1, issued at 9.900000s, applied at 10.016000s (zxid 130)"),
            std::string::npos)
      << v.details[0];
  EXPECT_EQ(v.details[0].find("19.018"), std::string::npos) << "not its reply's time";
}

TEST(CheckerLostUpdate, OverwrittenWritesAreNamedByTheirApplyTimes) {
  LostUpdateInput in;
  in.final_value = 1;
  Verdict v = check_lost_update(delayed_stale_write(), in);
  EXPECT_FALSE(v.ok);
  ASSERT_EQ(v.details.size(), 1u);
  EXPECT_EQ(v.details[0],
            "value 1 written by client 1 (no token), issued at 10.005000s, applied at "
            "10.008000s and client 0 (no token), issued at 9.900000s, applied at 10.016000s: "
            "they read the same counter, 1 increment overwritten");
}

TEST(CheckerLostUpdate, UnknownOutcomesWidenTheRange) {
  Builder b;
  b.cycle(0, ms(0), ms(10), 5, 1, 100);
  b.write(ms(15), 1, 7, 2, WriteOutcome::Unknown);
  LostUpdateInput in;
  for (int64_t final_value : {1, 2}) {
    in.final_value = final_value;
    EXPECT_TRUE(check_lost_update(b.history(), in).ok) << final_value;
  }
  in.final_value = 3;
  Verdict v = check_lost_update(b.history(), in);
  EXPECT_FALSE(v.ok);
  EXPECT_NE(v.summary.find("1 more than the writes explain"), std::string::npos) << v.summary;
  in.final_value = 0;
  EXPECT_FALSE(check_lost_update(b.history(), in).ok);
}

TEST(CheckerLostUpdate, AClientCrashedBetweenReadAndWriteMayHaveWritten) {
  // Client 1 read 1 and crashed with its write possibly on the wire: the counter may
  // say 1 or 2. A client that released after reading wrote nothing.
  Builder b;
  b.cycle(0, ms(0), ms(10), 5, 1, 100);
  HistoryEvent read;
  read.lo = read.hi = ms(12);
  read.client = 1;
  read.kind = EventKind::ResourceRead;
  read.value = 1;
  b.at(ms(11), 1, EventKind::Acquired, 7);
  History h = b.history();
  h.add(read);
  HistoryEvent crash;
  crash.lo = crash.hi = ms(13);
  crash.client = 1;
  crash.kind = EventKind::ClientCrashed;
  h.add(crash);
  LostUpdateInput in;
  in.final_value = 2;
  Verdict v = check_lost_update(h, in);
  EXPECT_TRUE(v.ok) << v.summary;
  EXPECT_NE(v.summary.find("1 of unknown outcome"), std::string::npos) << v.summary;
  in.final_value = 3;
  EXPECT_FALSE(check_lost_update(h, in).ok);

  History released = b.history();
  released.add(read);
  HistoryEvent rs = crash;
  rs.kind = EventKind::ReleaseStart;
  released.add(rs);
  released.add(crash);
  in.final_value = 2;
  EXPECT_FALSE(check_lost_update(released, in).ok) << "no write can follow a release";
}

TEST(CheckerLostUpdate, MissingNodeCountsAsZeroAndUnreadableFails) {
  LostUpdateInput in;
  EXPECT_TRUE(check_lost_update(History{}, in).ok);
  Builder b;
  b.cycle(0, ms(0), ms(10), 5, 1, 100);
  EXPECT_FALSE(check_lost_update(b.history(), in).ok);
  in.final_value = 1;
  in.final_error = "/locks/a-resource holds \"junk\"";
  Verdict v = check_lost_update(b.history(), in);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.summary,
            "VIOLATED: the final counter could not be read: /locks/a-resource holds \"junk\"");
}

// ---- token sanity -------------------------------------------------------------------

TEST(CheckerTokenSanity, DistinctIncreasingTokensHold) {
  Builder b;
  b.cycle(0, ms(0), ms(10), 5, 1, 100).cycle(1, ms(10), ms(20), 9, 2, 110);
  b.cycle(2, ms(20), ms(30), {}, 3, 120);  // no token: skipped
  Verdict v = check_token_sanity(b.history());
  EXPECT_EQ(v.checker, "token-sanity");
  EXPECT_TRUE(v.ok) << v.summary;
  EXPECT_EQ(v.summary,
            "holds: 2 grants with tokens, 1 without, all distinct, increasing in "
            "grant order");
}

TEST(CheckerTokenSanity, AReusedTokenIsAViolation) {
  Builder b;
  b.cycle(0, ms(0), ms(10), 5, 1, 100).cycle(1, ms(10), ms(20), 5, 2, 110);
  Verdict v = check_token_sanity(b.history());
  EXPECT_FALSE(v.ok);
  EXPECT_NE(v.summary.find("1 tokens reused"), std::string::npos) << v.summary;
  ASSERT_FALSE(v.details.empty());
  EXPECT_EQ(v.details[0],
            "token 5 reused: client 0 granted token 5 in [0.000000s, 0.000000s], client 1 "
            "granted token 5 in [0.010000s, 0.010000s]");
}

TEST(CheckerTokenSanity, ADecreasingTokenIsAViolation) {
  Builder b;
  b.cycle(0, ms(0), ms(10), 9, 1, 100).cycle(1, ms(10), ms(20), 5, 2, 110);
  Verdict v = check_token_sanity(b.history());
  EXPECT_FALSE(v.ok);
  ASSERT_EQ(v.details.size(), 1u);
  EXPECT_EQ(v.details[0].rfind("token went down: client 1 granted token 5", 0), 0u) << v.details[0];
}

TEST(CheckerTokenSanity, AGrantSeenLateIsNotBlamed) {
  // Client 0 asked first and was granted token 5 by the server, but paused before it
  // recorded Acquired; client 1 got token 9 meanwhile. The spans overlap: no violation.
  Builder b;
  b.at(ms(0), 0, EventKind::AcquireStart);
  b.at(ms(1), 1, EventKind::AcquireStart);
  b.at(ms(5000), 1, EventKind::Acquired, 9);
  b.at(ms(11000), 0, EventKind::Acquired, 5);
  EXPECT_TRUE(check_token_sanity(b.history()).ok);
}

// ---- liveness after quiet -----------------------------------------------------------

QuietLivenessInput quiet(int clients, Time end) {
  QuietLivenessInput in;
  in.clients = clients;
  in.quiet_from = seconds(10);
  in.settle = seconds(8);  // settled at 18 s
  in.wait_bound = seconds(5);
  in.end = end;
  return in;
}

Builder& finish(Builder& b, int client, Time t) { return b.at(t, client, EventKind::ClientDone); }

TEST(CheckerLivenessAfterQuiet, PromptGrantsAfterTheQuietPhaseHold) {
  Builder b;
  b.at(ms(0), 0, EventKind::ClientStart).at(ms(0), 1, EventKind::ClientStart);
  // Client 1 waits through the faults (from 2 s to 20 s): only 2 s of it after 18 s.
  b.at(seconds(2), 1, EventKind::AcquireStart);
  b.cycle(0, seconds(19), seconds(20), 1, 1, 100);
  b.at(seconds(20), 1, EventKind::Acquired, 2);
  b.at(seconds(21), 1, EventKind::ReleaseStart);
  finish(b, 0, seconds(20));
  finish(b, 1, seconds(21));
  Verdict v = check_liveness_after_quiet(b.history(), quiet(2, seconds(21)));
  EXPECT_EQ(v.checker, "liveness-after-quiet");
  EXPECT_TRUE(v.ok) << v.summary;
  EXPECT_EQ(v.summary,
            "holds: after the faults stopped at 10.000000s every wait ended within the bound 5s "
            "after 18.000000s");
}

TEST(CheckerLivenessAfterQuiet, ASlowGrantIsAViolation) {
  Builder b;
  b.at(seconds(2), 1, EventKind::AcquireStart);
  b.at(seconds(24), 1, EventKind::Acquired, 2);
  finish(b, 0, seconds(1));
  finish(b, 1, seconds(25));
  Verdict v = check_liveness_after_quiet(b.history(), quiet(2, seconds(25)));
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.summary,
            "VIOLATED: 1 waits over the bound (faults stopped at 10.000000s, bound 5s after "
            "18.000000s)");
  ASSERT_EQ(v.details.size(), 1u);
  EXPECT_EQ(v.details[0],
            "client 1 waited from 2.000000s to 24.000000s for the lock (bound 5s after "
            "18.000000s)");
}

TEST(CheckerLivenessAfterQuiet, AWaiterStillWaitingAtTheEndIsStuck) {
  Builder b;
  b.at(seconds(30), 0, EventKind::AcquireStart);
  Verdict v = check_liveness_after_quiet(b.history(), quiet(1, seconds(40)));
  EXPECT_FALSE(v.ok);
  EXPECT_NE(v.summary.find("1 clients stuck"), std::string::npos) << v.summary;
}

TEST(CheckerLivenessAfterQuiet, FailedAcquireAfterSettlingIsAViolation) {
  Builder b;
  b.at(seconds(19), 0, EventKind::AcquireStart);
  b.at(seconds(20), 0, EventKind::AcquireFailed, {}, "timeout");
  finish(b, 0, seconds(21));
  Verdict v = check_liveness_after_quiet(b.history(), quiet(1, seconds(21)));
  EXPECT_FALSE(v.ok);
  EXPECT_NE(v.summary.find("1 failed acquires"), std::string::npos) << v.summary;
  // Failing during the faults is allowed.
  Builder during;
  during.at(seconds(3), 0, EventKind::AcquireStart);
  during.at(seconds(5), 0, EventKind::AcquireFailed, {}, "timeout");
  finish(during, 0, seconds(19));
  EXPECT_TRUE(check_liveness_after_quiet(during.history(), quiet(1, seconds(19))).ok);
}

TEST(CheckerLivenessAfterQuiet, LeftoverLockNodeOnceAllClosedIsAViolation) {
  Builder b;
  finish(b, 0, seconds(19));
  QuietLivenessInput in = quiet(1, seconds(19));
  in.leftover_nodes = {"/locks/a/lock-0000000003"};
  Verdict v = check_liveness_after_quiet(b.history(), in);
  EXPECT_FALSE(v.ok);
  EXPECT_NE(v.summary.find("1 lock nodes left"), std::string::npos) << v.summary;
}

TEST(CheckerLivenessAfterQuiet, ClientsDownForGoodAreExemptAndBusyOnesNotBlamed) {
  Builder b;
  b.at(seconds(5), 0, EventKind::ClientCrashed);
  b.at(seconds(20), 1, EventKind::AcquireStart);
  b.at(seconds(21), 1, EventKind::Acquired, 3);  // working when the run's time ran out
  Verdict v = check_liveness_after_quiet(b.history(), quiet(2, seconds(22)));
  EXPECT_TRUE(v.ok) << v.summary;
  EXPECT_NE(v.summary.find("1 clients still working when the run ended"), std::string::npos);
  EXPECT_NE(v.summary.find("1 clients down for good (exempt)"), std::string::npos);
}

TEST(CheckerLivenessAfterQuiet, EveryoneDoneBeforeSettlingHolds) {
  Builder b;
  b.cycle(0, seconds(1), seconds(2), 1, 1, 100);
  finish(b, 0, seconds(3));
  Verdict v = check_liveness_after_quiet(b.history(), quiet(1, seconds(3)));
  EXPECT_TRUE(v.ok);
  EXPECT_EQ(v.summary,
            "holds: every client finished at 3.000000s, before the quiet phase "
            "settled, and no lock node is left");
  QuietLivenessInput in = quiet(1, seconds(3));
  in.leftover_nodes = {"/locks/a"};
  EXPECT_FALSE(check_liveness_after_quiet(b.history(), in).ok);
}

TEST(CheckerLivenessAfterQuiet, RunEndingBeforeSettlingSaysNothing) {
  Builder b;
  b.at(seconds(2), 0, EventKind::AcquireStart);
  Verdict v = check_liveness_after_quiet(b.history(), quiet(1, seconds(15)));
  EXPECT_TRUE(v.ok);
  EXPECT_EQ(v.summary.rfind("not applicable", 0), 0u) << v.summary;
}

}  // namespace
}  // namespace lockstep
