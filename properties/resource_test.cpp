// The fenced resource (core/resource.h) on the simulated store: a lower token is refused,
// an unfenced write is not, a version race is settled by comparing again; and whole runs:
// a long pause of the holder breaks mutual exclusion, and only the fenced resource keeps
// the counter whole.
#include "core/resource.h"

#include <gtest/gtest.h>

#include <functional>

#include "core/check/checker.h"
#include "core/workload.h"
#include "properties/sim_harness.h"
#include "sim/run.h"
#include "sim/scenario.h"

namespace lockstep::sim::testing {
namespace {

using namespace std::chrono_literals;

const std::string kPath = "/locks/a-resource";

std::string node_data(SimHarness& h, const std::string& path = kPath) {
  return h.server().tree().get(0, path, false).data;
}

Task<std::shared_ptr<Session>> connect(SimHarness* h, int me) {
  ConnectReply c = co_await h->store().connect(h->client(me), 4s);
  co_return c.session;
}

TEST(Resource, FormatAndPath) {
  EXPECT_EQ(format_resource({12, 34}), "12 34");
  auto s = parse_resource("12 34");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->max_token, 12u);
  EXPECT_EQ(s->value, 34);
  EXPECT_FALSE(parse_resource("12").has_value());
  EXPECT_FALSE(parse_resource("12 34 5").has_value());
  EXPECT_FALSE(parse_resource("x 1").has_value());
  EXPECT_EQ(resource_path("/locks/a"), "/locks/a-resource");
}

TEST(Resource, WriteDetailIsDerivedFromTheOutcome) {
  EXPECT_EQ(write_detail(WriteOutcome::Accepted, 42, ""), "zxid=42");
  EXPECT_EQ(write_detail(WriteOutcome::Refused, std::nullopt, "token 1 < max_token 2"),
            "refused: token 1 < max_token 2");
  EXPECT_EQ(write_detail(WriteOutcome::Unknown, std::nullopt, "ConnectionLoss"),
            "outcome unknown: ConnectionLoss");
  EXPECT_EQ(write_detail(WriteOutcome::Failed, std::nullopt, "NoNode"), "failed: NoNode");
  for (WriteOutcome o :
       {WriteOutcome::Accepted, WriteOutcome::Refused, WriteOutcome::Unknown, WriteOutcome::Failed})
    EXPECT_EQ(parse_write_outcome(write_outcome_name(o)), std::optional<WriteOutcome>(o));
  EXPECT_FALSE(parse_write_outcome("maybe").has_value());
}

struct Steps {
  std::vector<ResourceRead> reads;
  std::vector<ResourceWrite> writes;
};

TEST(Resource, FencedRefusesALowerTokenAndCreatesTheNode) {
  SimHarness h(1);
  Steps out;
  h.spawn(0, [](SimHarness* h, Steps* out) -> Task<void> {
    auto s = co_await connect(h, 0);
    FencedResource r(h->client(0), s, kPath, true);
    out->reads.push_back(co_await r.read(10));  // creates "/locks" and the node
    out->writes.push_back(co_await r.write(out->reads.back().value + 1, 10));
    out->writes.push_back(co_await r.write(7, 5));             // an older holder: refused
    out->writes.push_back(co_await r.write(8, std::nullopt));  // no token: cannot be fenced
    out->reads.push_back(co_await r.read(5));                  // a stale reader learns it
  }(&h, &out));
  h.run_until(5s);
  ASSERT_EQ(out.reads.size(), 2u);
  EXPECT_EQ(out.reads[0].err, Error::Ok);
  EXPECT_EQ(out.reads[0].value, 0);
  EXPECT_EQ(out.reads[0].max_token, 10u);  // the read registered its token
  EXPECT_FALSE(out.reads[0].stale);
  ASSERT_EQ(out.writes.size(), 3u);
  EXPECT_TRUE(out.writes[0].accepted());
  EXPECT_GT(out.writes[0].mzxid, 0);
  EXPECT_EQ(out.writes[0].detail(), "zxid=" + std::to_string(out.writes[0].mzxid));
  EXPECT_FALSE(out.writes[1].accepted());
  EXPECT_EQ(out.writes[1].outcome, WriteOutcome::Refused);
  EXPECT_EQ(out.writes[1].detail(), "refused: token 5 < max_token 10");
  EXPECT_TRUE(out.writes[2].accepted());
  EXPECT_TRUE(out.reads[1].stale);
  EXPECT_EQ(out.reads[1].value, 8);
  EXPECT_EQ(node_data(h), "10 8");
}

TEST(Resource, UnfencedAcceptsALowerTokenAndLosesAnUpdate) {
  SimHarness h(2);
  Steps a, b;
  // Both read 0, then both write 1: the second overwrites the first.
  auto client = [](SimHarness* h, int me, uint64_t token, Duration wait, Steps* out) -> Task<void> {
    auto s = co_await connect(h, me);
    FencedResource r(h->client(me), s, kPath, false);
    out->reads.push_back(co_await r.read(token));
    co_await h->client(me).sleep_for(wait);
    out->writes.push_back(co_await r.write(out->reads.back().value + 1, token));
  };
  h.spawn(0, client(&h, 0, 20, 1s, &a));
  h.spawn(1, client(&h, 1, 10, 2s, &b));
  h.run_until(5s);
  ASSERT_EQ(a.writes.size(), 1u);
  ASSERT_EQ(b.writes.size(), 1u);
  EXPECT_EQ(a.reads[0].value, 0);
  EXPECT_EQ(b.reads[0].value, 0);
  EXPECT_TRUE(a.writes[0].accepted());
  EXPECT_TRUE(b.writes[0].accepted()) << "unfenced: token 10 after 20 still accepted";
  EXPECT_EQ(node_data(h), "10 1") << "two increments, one left";
}

TEST(Resource, FencedReadShutsOutAnOlderHoldersPendingWrite) {
  // The older holder (token 10) reads, the newer one (token 20) reads before the older
  // one writes: the older write is refused, so the newer increment is not lost.
  SimHarness h(2);
  Steps older, newer;
  auto client = [](SimHarness* h, int me, uint64_t token, Duration before, Duration wait,
                   Steps* out) -> Task<void> {
    auto s = co_await connect(h, me);
    co_await h->client(me).sleep_for(before);
    FencedResource r(h->client(me), s, kPath, true);
    out->reads.push_back(co_await r.read(token));
    co_await h->client(me).sleep_for(wait);
    out->writes.push_back(co_await r.write(out->reads.back().value + 1, token));
  };
  h.spawn(0, client(&h, 0, 10, 0s, 2s, &older));
  h.spawn(1, client(&h, 1, 20, 1s, 2s, &newer));
  h.run_until(6s);
  ASSERT_EQ(older.writes.size(), 1u);
  ASSERT_EQ(newer.writes.size(), 1u);
  EXPECT_FALSE(older.writes[0].accepted());
  EXPECT_EQ(older.writes[0].detail(), "refused: token 10 < max_token 20");
  EXPECT_TRUE(newer.writes[0].accepted());
  EXPECT_EQ(node_data(h), "20 1");
}

// A session that lets a test write through another session just before the first set
// goes out: the fenced write's get/set pair then meets BadVersion.
class RacingSession final : public Session {
 public:
  RacingSession(Env& env, std::shared_ptr<Session> inner, std::function<Task<void>()> race)
      : env_(env), inner_(std::move(inner)), race_(std::move(race)) {}

  Future<SetReply> set(const std::string& path, const std::string& data, int32_t version) override {
    ++sets;
    if (!race_) return inner_->set(path, data, version);
    Promise<SetReply> done;
    env_.spawn([](std::function<Task<void>()> race, std::shared_ptr<Session> inner,
                  std::string path, std::string data, int32_t version,
                  Promise<SetReply> done) -> Task<void> {
      co_await race();
      done.set(co_await inner->set(path, data, version));
    }(std::move(race_), inner_, path, data, version, done));
    race_ = nullptr;
    return done.future();
  }
  Future<CreateReply> create(const std::string& path, const std::string& data, CreateMode mode,
                             Duration ttl) override {
    return inner_->create(path, data, mode, ttl);
  }
  Future<Error> remove(const std::string& path, int32_t version) override {
    return inner_->remove(path, version);
  }
  Future<GetReply> get(const std::string& path, bool watch) override {
    return inner_->get(path, watch);
  }
  Future<ExistsReply> exists(const std::string& path, bool watch) override {
    return inner_->exists(path, watch);
  }
  Future<ChildrenReply> children(const std::string& path, bool watch) override {
    return inner_->children(path, watch);
  }
  Future<MultiReply> multi(const std::vector<Op>& ops) override { return inner_->multi(ops); }
  Future<Unit> close() override { return inner_->close(); }
  SessionState state() const override { return inner_->state(); }
  int64_t id() const override { return inner_->id(); }
  Duration timeout() const override { return inner_->timeout(); }
  Future<SessionEvent> next_event() override { return inner_->next_event(); }
  Future<SessionState> ended() override { return inner_->ended(); }

  int sets = 0;

 private:
  Env& env_;
  std::shared_ptr<Session> inner_;
  std::function<Task<void>()> race_;
};

// Client 0 writes with token 20 while client 1 slips in a write of `rival` between the
// fenced write's get and its set.
struct Race {
  ResourceWrite write;
  int sets = 0;
};
Race race(SimHarness& h, std::string rival) {
  Race out;
  h.spawn(0, [](SimHarness* h, std::string rival, Race* out) -> Task<void> {
    auto mine = co_await connect(h, 0);
    auto other = co_await connect(h, 1);
    FencedResource setup(h->client(0), mine, kPath, true);
    co_await setup.read(std::nullopt);  // creates the node: "0 0"
    auto racing = std::make_shared<RacingSession>(
        h->client(0), mine,
        [other, rival]() -> Task<void> { co_await other->set(kPath, rival, -1); });
    FencedResource r(h->client(0), racing, kPath, true);
    out->write = co_await r.write(1, 20);
    out->sets = racing->sets;
  }(&h, std::move(rival), &out));
  h.run_until(5s);
  return out;
}

TEST(Resource, VersionRaceWithANewerWriterIsRefused) {
  SimHarness h(2);
  Race r = race(h, "30 7");
  EXPECT_FALSE(r.write.accepted());
  EXPECT_EQ(r.write.detail(), "refused: token 20 < max_token 30");
  EXPECT_EQ(r.sets, 1) << "the first set met BadVersion, the re-read refused";
  EXPECT_EQ(node_data(h), "30 7");
}

TEST(Resource, VersionRaceWithAnOlderWriterComparesAgainAndWins) {
  SimHarness h(2);
  Race r = race(h, "15 7");
  EXPECT_TRUE(r.write.accepted()) << r.write.detail();
  EXPECT_EQ(r.sets, 2) << "BadVersion, re-read, compare, set again";
  EXPECT_EQ(node_data(h), "20 1");
}

TEST(ResourceFencingSource, TokenComesFromTheChosenSource) {
  Lease lease;
  lease.token = 100;
  lease.node_czxid = 200;
  lease.node_sequence = 3;
  EXPECT_EQ(fencing_token(lease, FencingSource::Own), std::optional<uint64_t>(100));
  EXPECT_EQ(fencing_token(lease, FencingSource::Czxid), std::optional<uint64_t>(200));
  EXPECT_EQ(fencing_token(lease, FencingSource::Sequence), std::optional<uint64_t>(3));
  EXPECT_EQ(fencing_token(lease, FencingSource::None), std::nullopt);
  for (const char* name : {"", "czxid", "sequence", "none"}) {
    auto s = parse_fencing_source(name);
    ASSERT_TRUE(s.has_value()) << name;
    EXPECT_EQ(fencing_source_name(*s), name);
  }
  EXPECT_FALSE(parse_fencing_source("zxid").has_value());
}

// ---- whole runs -------------------------------------------------------------------

std::string pause_scenario(const std::string& algorithm, const std::string& resource,
                           const std::string& extra = "") {
  return R"({"algorithm":")" + algorithm + R"(","clients":3,"session_timeout":"4s",
    "workload":{"cycles":5,"hold":"2s","think":"10ms","acquire_timeout":"60s"},
    "resource":)" +
         resource + extra + R"(,
    "faults":[{"kind":"pause","client":"holder","at":"1s","for":"10s"}],
    "duration":"120s"})";
}

const Verdict* find(const RunResult& r, const std::string& name) {
  for (const auto& v : r.verdicts)
    if (v.checker == name) return &v;
  return nullptr;
}

std::string all(const RunResult& r) {
  std::string out;
  for (const auto& v : r.verdicts) {
    out += v.checker + ": " + v.summary + "\n";
    for (size_t i = 0; i < v.details.size() && i < 4; ++i) out += "    " + v.details[i] + "\n";
  }
  return out;
}

int64_t accepted_writes(const RunResult& r) {
  int64_t n = 0;
  for (const auto& e : r.history.events()) n += e.kind == EventKind::ResourceWrite && e.accepted();
  return n;
}

bool stale_write_refused(const RunResult& r) {
  for (const auto& e : r.history.events())
    if (e.kind == EventKind::ResourceWrite && e.outcome == WriteOutcome::Refused) return true;
  return false;
}

// Kleppmann's case: the resource is a store of its own whose connection outlives the
// lock's session, so the paused holder's write does arrive, after newer holders'.
TEST(ResourceRun, FencedResourceSurvivesALongHolderPause) {
  RunResult r = run_scenario(
      parse_scenario(pause_scenario("recipe", R"({"fenced":true,"store":"separate"})")));
  ASSERT_NE(find(r, "mutual-exclusion"), nullptr);
  EXPECT_FALSE(find(r, "mutual-exclusion")->ok) << all(r);
  ASSERT_NE(find(r, "fencing"), nullptr);
  EXPECT_TRUE(find(r, "fencing")->ok) << all(r);
  ASSERT_NE(find(r, "lost-update"), nullptr);
  EXPECT_TRUE(find(r, "lost-update")->ok) << all(r);
  ASSERT_NE(find(r, "token-sanity"), nullptr);
  EXPECT_TRUE(find(r, "token-sanity")->ok) << all(r);
  ASSERT_NE(find(r, "liveness-after-quiet"), nullptr);
  EXPECT_TRUE(find(r, "liveness-after-quiet")->ok) << all(r);
  EXPECT_EQ(find(r, "liveness"), nullptr) << "plain liveness is for runs without faults";
  EXPECT_TRUE(stale_write_refused(r)) << "the paused holder's write came back\n" << all(r);
  ASSERT_TRUE(r.resource_value.has_value());
  EXPECT_EQ(*r.resource_value, accepted_writes(r));
}

TEST(ResourceRun, UnfencedResourceLosesAnUpdateUnderTheSamePause) {
  RunResult r = run_scenario(
      parse_scenario(pause_scenario("recipe", R"({"fenced":false,"store":"separate"})")));
  EXPECT_FALSE(find(r, "mutual-exclusion")->ok) << all(r);
  ASSERT_NE(find(r, "fencing"), nullptr);
  ASSERT_NE(find(r, "lost-update"), nullptr);
  EXPECT_FALSE(find(r, "fencing")->ok) << all(r);
  EXPECT_FALSE(find(r, "lost-update")->ok) << all(r);
  EXPECT_FALSE(r.ok());
}

// On the lock's own session the resource is guarded by that session: the paused
// holder's session has expired, so its write cannot be applied, fenced or not. Mutual
// exclusion still fails (the holder believed too long), the resource does not.
TEST(ResourceRun, OnTheLocksOwnSessionTheExpiredSessionKeepsTheStaleWriteOut) {
  for (const char* resource : {R"({"fenced":true})", R"({"fenced":false})"}) {
    SCOPED_TRACE(resource);
    RunResult r = run_scenario(parse_scenario(pause_scenario("recipe", resource)));
    EXPECT_FALSE(find(r, "mutual-exclusion")->ok) << all(r);
    EXPECT_TRUE(find(r, "fencing")->ok) << all(r);
    EXPECT_TRUE(find(r, "lost-update")->ok) << all(r);
    EXPECT_TRUE(find(r, "liveness-after-quiet")->ok) << all(r);
    ASSERT_TRUE(r.resource_value.has_value());
    EXPECT_EQ(*r.resource_value, accepted_writes(r));
  }
}

TEST(ResourceRun, NoFaultsEveryCheckerHolds) {
  for (const char* resource :
       {R"({"fenced":true})", R"({"fenced":false})", R"({"fenced":true,"store":"separate"})"}) {
    SCOPED_TRACE(resource);
    Scenario s = parse_scenario(R"({"algorithm":"recipe","clients":4,
        "workload":{"cycles":10,"hold":"20ms"},"resource":)" +
                                std::string(resource) + "}");
    RunResult r = run_scenario(s);
    EXPECT_TRUE(r.ok()) << all(r);
    std::vector<std::string> names;
    for (const auto& v : r.verdicts) names.push_back(v.checker);
    EXPECT_EQ(names, (std::vector<std::string>{"mutual-exclusion", "fencing", "lost-update",
                                               "token-sanity", "liveness"}));
    ASSERT_TRUE(r.resource_value.has_value());
    EXPECT_EQ(*r.resource_value, 40);
    EXPECT_EQ(accepted_writes(r), 40);
    EXPECT_TRUE(r.leftover.empty()) << "the resource node is not a lock node";
  }
}

TEST(ResourceRun, WithoutAResourceOnlyTheLockCheckersRun) {
  RunResult r = run_scenario(parse_scenario(R"({"algorithm":"zk-slow","workload":{"cycles":3}})"));
  std::vector<std::string> names;
  for (const auto& v : r.verdicts) names.push_back(v.checker);
  EXPECT_EQ(names, (std::vector<std::string>{"mutual-exclusion", "liveness"}))
      << "zk-slow has no token: no token-sanity";
  EXPECT_FALSE(r.resource_value.has_value());
}

// A port without a token of its own: its fenced writes carry none and the stale holder's
// write gets through; the lock node's czxid, chosen with "fencing", stops it.
TEST(ResourceRun, FencingSourceGivesATokenToAPortWithoutOne) {
  const std::string separate = R"({"fenced":true,"store":"separate"})";
  RunResult bare = run_scenario(parse_scenario(pause_scenario("zk-slow", separate)));
  EXPECT_FALSE(find(bare, "mutual-exclusion")->ok) << all(bare);
  EXPECT_FALSE(find(bare, "fencing")->ok) << all(bare);
  EXPECT_EQ(find(bare, "token-sanity"), nullptr);

  for (const char* source : {"czxid", "sequence"}) {
    SCOPED_TRACE(source);
    const std::string algorithm = std::string(source) == "czxid" ? "zk-slow" : "zk-fast-pred";
    RunResult r = run_scenario(parse_scenario(
        pause_scenario(algorithm, separate, std::string(R"(,"fencing":")") + source + "\"")));
    EXPECT_FALSE(find(r, "mutual-exclusion")->ok) << all(r);
    EXPECT_TRUE(find(r, "fencing")->ok) << all(r);
    EXPECT_TRUE(find(r, "lost-update")->ok) << all(r);
    ASSERT_NE(find(r, "token-sanity"), nullptr);
    EXPECT_TRUE(find(r, "token-sanity")->ok) << all(r);
  }
}

TEST(ResourceRun, FencingNoneMeansNoTokens) {
  RunResult r = run_scenario(parse_scenario(
      pause_scenario("recipe", R"({"fenced":true,"store":"separate"})", R"(,"fencing":"none")")));
  for (const auto& e : r.history.events())
    if (e.kind == EventKind::Acquired || e.kind == EventKind::ResourceWrite) {
      EXPECT_FALSE(e.token.has_value());
    }
  EXPECT_EQ(find(r, "token-sanity"), nullptr);
  EXPECT_FALSE(find(r, "fencing")->ok) << "nothing fences the stale holder\n" << all(r);
}

TEST(ResourceRun, SequenceTokensOfRecipeAreItsNodeNumbers) {
  RunResult r = run_scenario(parse_scenario(
      R"({"algorithm":"recipe","clients":2,"workload":{"cycles":3},"fencing":"sequence"})"));
  std::vector<uint64_t> tokens;
  for (const auto& e : r.history.events())
    if (e.kind == EventKind::Acquired) tokens.push_back(e.token.value_or(999));
  EXPECT_EQ(tokens, (std::vector<uint64_t>{0, 1, 2, 3, 4, 5}));
  EXPECT_TRUE(r.ok()) << all(r);
}

}  // namespace
}  // namespace lockstep::sim::testing
