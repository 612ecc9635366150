// The judge: one table decides which checkers apply to a run, in which order, and the
// liveness bounds, for the simulator and live runs alike.
#include "core/check/judge.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim/search/matrix.h"

namespace lockstep {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

HistoryEvent at(Time t, int client, EventKind kind, std::optional<uint64_t> token = {}) {
  HistoryEvent e;
  e.lo = e.hi = t;
  e.client = client;
  e.kind = kind;
  e.token = token;
  return e;
}

// One client, one cycle: a grant (with `token`), a release, done.
History one_cycle(std::optional<uint64_t> token) {
  History h;
  h.add(at(milliseconds(0), 0, EventKind::ClientStart));
  h.add(at(milliseconds(1), 0, EventKind::AcquireStart));
  h.add(at(milliseconds(2), 0, EventKind::Acquired, token));
  h.add(at(milliseconds(3), 0, EventKind::ReleaseStart));
  h.add(at(milliseconds(4), 0, EventKind::Released));
  h.add(at(milliseconds(5), 0, EventKind::ClientDone));
  return h;
}

std::vector<std::string> names(const std::vector<Verdict>& verdicts) {
  std::vector<std::string> out;
  for (const auto& v : verdicts) out.push_back(v.checker);
  return out;
}

TEST(Judge, TheTableIsTheOrderEverywhere) {
  std::vector<std::string> table;
  for (const CheckerRow& row : checker_table()) table.emplace_back(row.name);
  EXPECT_EQ(table,
            (std::vector<std::string>{"mutual-exclusion", "fencing", "lost-update", "token-sanity",
                                      "liveness", "liveness-after-quiet", "renewal"}));
  std::vector<std::string> reversed(table.rbegin(), table.rend());
  EXPECT_EQ(sim::search::order_checkers(reversed), table) << "the matrix orders by the table";
}

TEST(Judge, WhichCheckersApply) {
  RunFacts quiet;
  quiet.clients = 1;
  quiet.cycles = 1;
  quiet.end = milliseconds(5);
  quiet.all_clients_done = true;
  RunOutcome plain = judge(one_cycle(std::nullopt), quiet);
  EXPECT_EQ(names(plain.verdicts), (std::vector<std::string>{"mutual-exclusion", "liveness"}));
  EXPECT_TRUE(plain.ok());

  RunFacts busy = quiet;
  busy.resource = true;
  busy.final_resource.final_value = 0;
  busy.faults = true;
  RunOutcome full = judge(one_cycle(7), busy);
  EXPECT_EQ(names(full.verdicts),
            (std::vector<std::string>{"mutual-exclusion", "fencing", "lost-update", "token-sanity",
                                      "liveness-after-quiet"}));
}

TEST(Judge, TheOutcomeCountsAndCarriesTheRunsFacts) {
  RunFacts f;
  f.clients = 1;
  f.cycles = 1;
  f.leftover_nodes = {"/locks/a/x"};
  f.end = milliseconds(5);
  f.all_clients_done = true;
  f.store_requests = 12;
  f.final_resource.final_value = 3;
  RunOutcome o = judge(one_cycle(std::nullopt), f);
  EXPECT_EQ(o.history.events().size(), 6u);
  EXPECT_EQ(o.acquisitions, 1);
  EXPECT_EQ(o.releases, 1);
  EXPECT_EQ(o.store_requests, 12);
  EXPECT_TRUE(o.all_clients_done);
  EXPECT_EQ(o.leftover, std::vector<std::string>{"/locks/a/x"});
  EXPECT_EQ(o.resource_value, std::optional<int64_t>(3));
  EXPECT_FALSE(o.ok()) << "a lock node left behind fails liveness";
}

TEST(Judge, QuietBoundsComeFromOnePlace) {
  RunFacts f;
  f.clients = 3;
  f.session_timeout = seconds(4);
  f.hold = milliseconds(100);
  f.max_latency = milliseconds(20);
  QuietBounds b = quiet_bounds(f);
  EXPECT_EQ(b.settle, seconds(8));
  // 2 x 4 s + 3 x (2 x 100 ms + 10 x 20 ms)
  EXPECT_EQ(b.wait_bound, milliseconds(8000 + 3 * 400));
}

}  // namespace
}  // namespace lockstep
