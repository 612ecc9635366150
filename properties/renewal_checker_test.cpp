// The "renewal" checker on hand-built histories: a renewal that succeeds after another
// client's grant fails it (what redis-semaphore did before its fix of issue #175); one
// begun before that grant, or refused, does not; and it applies only where a lock
// reported renewals.
#include <gtest/gtest.h>

#include "core/check/checker.h"
#include "core/check/judge.h"

namespace lockstep {
namespace {

using std::chrono::milliseconds;

HistoryEvent at(Time t, int client, EventKind kind, std::optional<int64_t> value = {}) {
  HistoryEvent e;
  e.lo = e.hi = t;
  e.client = client;
  e.kind = kind;
  e.value = value;
  return e;
}

// Client 0 holds from 1 ms; client 1 is granted the lock at 20 ms (0's lease had lapsed)
// and releases at 30 ms; 0's renewal #1 runs over [start, start + 2 ms].
History lapsed_lease(Time renewal_start, bool succeeded) {
  History h;
  h.add(at(milliseconds(1), 0, EventKind::Acquired));
  h.add(at(milliseconds(20), 1, EventKind::Acquired));
  h.add(at(milliseconds(30), 1, EventKind::ReleaseStart));
  h.add(at(renewal_start, 0, EventKind::RenewStart, 1));
  if (succeeded) h.add(at(renewal_start + milliseconds(2), 0, EventKind::Renewed, 1));
  h.add(at(milliseconds(60), 0, EventKind::ReleaseStart));
  return h;
}

TEST(CheckerRenewal, ASuccessAfterAnotherGrantFails) {
  Verdict v = check_renewal(lapsed_lease(milliseconds(40), true));
  EXPECT_EQ(v.checker, "renewal");
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.summary,
            "VIOLATED: 1 of 1 successful renewals came after another client's grant (client 0's "
            "renewal #1 begun at 0.040000s succeeded (held since its grant at 0.001000s), but "
            "client 1 was granted the lock at 0.020000s in between)");
  EXPECT_EQ(v.clients, (std::vector<int>{0, 1}));
}

TEST(CheckerRenewal, ARefusedRenewalOrOneBegunBeforeTheGrantHolds) {
  EXPECT_TRUE(check_renewal(lapsed_lease(milliseconds(40), false)).ok);
  // Begun at 19 ms, answered at 21 ms: it may have been true when the store applied it.
  Verdict early = check_renewal(lapsed_lease(milliseconds(19), true));
  EXPECT_TRUE(early.ok) << early.summary;
  EXPECT_EQ(early.summary, "holds: 1 successful renewals, none after another client's grant");
}

TEST(CheckerRenewal, ANewGrantOfTheSameClientStartsAfresh) {
  History h = lapsed_lease(milliseconds(40), false);
  h.add(at(milliseconds(70), 0, EventKind::Acquired));
  h.add(at(milliseconds(80), 0, EventKind::RenewStart, 1));
  h.add(at(milliseconds(81), 0, EventKind::Renewed, 1));
  EXPECT_TRUE(check_renewal(h).ok);
}

TEST(CheckerRenewal, AppliesOnlyWhereALockReportedRenewals) {
  RunFacts facts;
  facts.clients = 2;
  facts.faults = true;
  facts.end = milliseconds(100);
  auto has_renewal = [](const RunOutcome& o) {
    for (const Verdict& v : o.verdicts)
      if (v.checker == "renewal") return true;
    return false;
  };
  EXPECT_TRUE(has_renewal(judge(lapsed_lease(milliseconds(40), true), facts)));
  EXPECT_FALSE(has_renewal(judge(lapsed_lease(milliseconds(40), false), facts)));
}

}  // namespace
}  // namespace lockstep
