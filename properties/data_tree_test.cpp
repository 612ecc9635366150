// The simulated server's znode tree against ZooKeeper 3.8's documented and observed
// behaviour: names, Stat bookkeeping, errors, zxids, multi, watches, sessions, TTL and
// container nodes.
#include "core/zk/data_tree.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace lockstep {
namespace {

constexpr int64_t S1 = 0x101, S2 = 0x102, S3 = 0x103;

class DataTreeTest : public ::testing::Test {
 protected:
  CreateReply mk(const std::string& path, CreateMode mode = CreateMode::Persistent,
                 int64_t session = S1, int64_t ttl_ms = 0, int64_t now_ms = 0,
                 const std::string& data = "") {
    return t.create(session, path, data, mode, ttl_ms, now_ms, fired);
  }
  Error rm(const std::string& path, int32_t version = -1) { return t.remove(path, version, fired); }
  SetReply put(const std::string& path, const std::string& data, int32_t version = -1,
               int64_t now_ms = 0) {
    return t.set(path, data, version, now_ms, fired);
  }
  Stat stat_of(const std::string& path) { return t.exists(S3, path, false).stat; }
  std::vector<WatchFire> take() {
    std::vector<WatchFire> out;
    out.swap(fired);
    return out;
  }

  DataTree t;
  std::vector<WatchFire> fired;
};

bool same(const WatchFire& f, int64_t session, WatchEventType type, const std::string& path) {
  return f.session == session && f.type == type && f.path == path;
}

TEST_F(DataTreeTest, FreshTreeLooksLikeAFreshServer) {
  EXPECT_EQ(t.last_zxid(), 0);
  EXPECT_TRUE(t.contains("/zookeeper"));
  EXPECT_TRUE(t.contains("/zookeeper/config"));
  EXPECT_TRUE(t.contains("/zookeeper/quota"));
  Stat root = stat_of("/");
  EXPECT_EQ(root.num_children, 1);
  // "/zookeeper" was never created by a transaction, so 0 creations - 1 child.
  EXPECT_EQ(root.cversion, -1);
  EXPECT_EQ(stat_of("/zookeeper/config").aversion, -1);
  EXPECT_EQ(t.paths_under("/zookeeper"),
            (std::vector<std::string>{"/zookeeper/config", "/zookeeper/quota"}));
}

TEST_F(DataTreeTest, CreateSetsStatOfNodeAndParent) {
  ASSERT_EQ(mk("/a").err, Error::Ok);
  CreateReply r = mk("/a/b", CreateMode::Persistent, S1, 0, 1234, "hello");
  ASSERT_EQ(r.err, Error::Ok);
  EXPECT_EQ(r.path, "/a/b");
  EXPECT_EQ(r.stat.czxid, 2);
  EXPECT_EQ(r.stat.mzxid, 2);
  EXPECT_EQ(r.stat.pzxid, 2);
  EXPECT_EQ(r.stat.ctime, 1234);
  EXPECT_EQ(r.stat.mtime, 1234);
  EXPECT_EQ(r.stat.version, 0);
  EXPECT_EQ(r.stat.cversion, 0);
  EXPECT_EQ(r.stat.aversion, 0);
  EXPECT_EQ(r.stat.data_length, 5);
  EXPECT_EQ(r.stat.num_children, 0);
  EXPECT_EQ(r.stat.ephemeral_owner, 0);
  EXPECT_EQ(r.stat, stat_of("/a/b"));
  Stat parent = stat_of("/a");
  EXPECT_EQ(parent.num_children, 1);
  EXPECT_EQ(parent.cversion, 1);
  EXPECT_EQ(parent.pzxid, 2);
  EXPECT_EQ(parent.mzxid, 1);  // a child does not change the parent's data
  EXPECT_EQ(t.get(S1, "/a/b", false).data, "hello");
}

TEST_F(DataTreeTest, SequentialNamesAreTenDigitZeroPadded) {
  mk("/locks");
  EXPECT_EQ(mk("/locks/lock-", CreateMode::EphemeralSequential).path, "/locks/lock-0000000000");
  EXPECT_EQ(mk("/locks/lock-", CreateMode::PersistentSequential).path, "/locks/lock-0000000001");
  EXPECT_EQ(mk("/locks/x", CreateMode::EphemeralSequential).path, "/locks/x0000000002");
  EXPECT_EQ(*t.children(S1, "/locks", false).children,
            (std::vector<std::string>{"lock-0000000000", "lock-0000000001", "x0000000002"}));
}

TEST_F(DataTreeTest, SequenceCountsChildCreationsNotDeletions) {
  mk("/q");
  for (int i = 0; i < 3; ++i) mk("/q/n-", CreateMode::PersistentSequential);
  ASSERT_EQ(rm("/q/n-0000000000"), Error::Ok);
  ASSERT_EQ(rm("/q/n-0000000002"), Error::Ok);
  // ZooKeeper's stored cversion counts creations; the next suffix is the 4th creation.
  EXPECT_EQ(mk("/q/n-", CreateMode::PersistentSequential).path, "/q/n-0000000003");
  // What a client sees counts both: 4 creations + 2 deletions.
  Stat s = stat_of("/q");
  EXPECT_EQ(s.cversion, 6);
  EXPECT_EQ(s.num_children, 2);
}

TEST_F(DataTreeTest, SequenceSkipsNumbersTakenByOtherChildren) {
  mk("/q");
  mk("/q/plain");
  mk("/q/other", CreateMode::Ephemeral);
  EXPECT_EQ(mk("/q/n-", CreateMode::PersistentSequential).path, "/q/n-0000000002");
  EXPECT_EQ(mk("/q/m-", CreateMode::PersistentSequential).path, "/q/m-0000000003");
}

TEST_F(DataTreeTest, SequentialCreateMayEndInSlash) {
  mk("/q");
  EXPECT_EQ(mk("/q/", CreateMode::PersistentSequential).path, "/q/0000000000");
  // The root has had one creation ("/q") since the server started.
  EXPECT_EQ(mk("/", CreateMode::PersistentSequential).path, "/0000000001");
  EXPECT_EQ(mk("/q/", CreateMode::Persistent).err, Error::BadArguments);
}

TEST_F(DataTreeTest, CreateErrors) {
  mk("/a");
  EXPECT_EQ(mk("/a").err, Error::NodeExists);
  EXPECT_EQ(mk("/").err, Error::NodeExists);
  EXPECT_EQ(mk("/missing/child").err, Error::NoNode);
  mk("/e", CreateMode::Ephemeral);
  EXPECT_EQ(mk("/e/child").err, Error::NoChildrenForEphemerals);
  EXPECT_EQ(mk("/e/child", CreateMode::EphemeralSequential).err, Error::NoChildrenForEphemerals);
  // TTL and container parents are not ephemeral.
  mk("/ttl", CreateMode::PersistentWithTtl, S1, 5000);
  EXPECT_EQ(mk("/ttl/child").err, Error::Ok);
  mk("/c", CreateMode::Container);
  EXPECT_EQ(mk("/c/child").err, Error::Ok);
  // Failed creations leave no trace in the parent.
  EXPECT_EQ(stat_of("/e").cversion, 0);
}

TEST_F(DataTreeTest, InvalidPathsAreRefusedBeforeTheServer) {
  int64_t before = t.last_zxid();
  for (const char* p : {"", "a", "/a/", "//a", "/a//b", "/a/.", "/a/..", "/./a", "/a\x01"}) {
    EXPECT_EQ(mk(p).err, Error::BadArguments) << p;
    EXPECT_EQ(rm(p), Error::BadArguments) << p;
    EXPECT_EQ(put(p, "x").err, Error::BadArguments) << p;
    EXPECT_EQ(t.get(S1, p, true).err, Error::BadArguments) << p;
    EXPECT_EQ(t.exists(S1, p, true).err, Error::BadArguments) << p;
    EXPECT_EQ(t.children(S1, p, true).err, Error::BadArguments) << p;
  }
  EXPECT_EQ(t.last_zxid(), before);
  EXPECT_EQ(t.watch_count(), 0u);
}

// zookeeper.c's isValidPath, rule by rule; a sequential create may end where its suffix goes.
TEST(CClientPathCheck, FollowsIsValidPath) {
  struct Case {
    std::string path;
    bool plain, sequential;
  };
  const std::vector<Case> cases = {
      {"", false, false},
      {"a", false, false},
      {"/", true, true},
      {"/a", true, true},
      {"/a/", false, true},
      {"/a/.", false, true},
      {"/a/..", false, true},
      {"/a/./b", false, false},
      {"/a/../b", false, false},
      {"/./a", false, false},
      {"/../a", false, false},
      {"//a", false, false},
      {"/a//b", false, false},
      {"/a/.b", true, true},
      {"/a/..b", true, true},
      {"/a/b.", true, true},
      {"/a/b..", true, true},
      {"/a...", true, true},
      {"/a/...", true, true},
      {"/a\x01", false, false},
      {"/a\x1e", false, false},
      {"/a\x1f", true, true},
      {"/a\x7f", true, true},
      {"/a\xc3\xa9"
       "b",
       true, true},
      {std::string("/a\0b", 4), false, false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(c_client_path_valid(c.path, false), c.plain) << c.path;
    EXPECT_EQ(c_client_path_valid(c.path, true), c.sequential) << c.path << " (sequential)";
  }
}

// The C client's rules (zookeeper.c's isValidPath) read segment by segment, the way its
// comments state them: the reference the word-at-a-time check in core/store.cpp must
// agree with. No NUL or control character below 0x1f, no empty segment, no "." or ".."
// segment, except a last one when the server appends a sequence number.
bool segment_wise_path_valid(std::string_view path, bool sequential) {
  if (path.empty() || path[0] != '/') return false;
  if (path.size() == 1) return true;
  if (path.back() == '/' && !sequential) return false;
  for (unsigned char ch : path.substr(1))
    if (ch < 0x1f) return false;
  for (size_t start = 1;;) {
    const size_t end = path.find('/', start);
    const bool last = end == std::string_view::npos;
    const std::string_view segment =
        path.substr(start, last ? std::string_view::npos : end - start);
    if (!last && segment.empty()) return false;
    if ((segment == "." || segment == "..") && (!last || !sequential)) return false;
    if (last) return true;
    start = end + 1;
  }
}

RC_GTEST_PROP(DataTreeProperty, PathCheckAgreesWithTheSegmentWiseRules, ()) {
  // Long runs of ordinary characters (the word-at-a-time skip) among the ones the rules
  // are about, at every offset.
  static const char kAlphabet[] = {'/',  '.',    'a',    'z',    '-', '_',    '0',    '9',
                                   '\0', '\x01', '\x1e', '\x1f', ' ', '\x7f', '\x80', '\xff'};
  const auto picks = *rc::gen::container<std::vector<size_t>>(rc::gen::weightedOneOf<size_t>(
      {{1, rc::gen::inRange<size_t>(0, sizeof kAlphabet)}, {3, rc::gen::inRange<size_t>(2, 4)}}));
  std::string path = *rc::gen::element<std::string>("/", "", "/a/", "//");
  for (size_t k : picks) path += kAlphabet[k];
  const bool sequential = *rc::gen::arbitrary<bool>();
  RC_ASSERT(c_client_path_valid(path, sequential) == segment_wise_path_valid(path, sequential));
}

// The number after the last '-', read as the recipes always read it: the reference the
// one-pass version in core/store.cpp must agree with.
std::optional<int64_t> after_last_dash(std::string_view name) {
  auto dash = name.rfind('-');
  std::string_view digits = dash == std::string_view::npos ? name : name.substr(dash + 1);
  if (digits.empty() || digits.size() > 18) return std::nullopt;
  int64_t n = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return n;
}

TEST(SequenceNumber, ReadsTheNumbersLocksWrite) {
  EXPECT_EQ(sequence_number("_c_fed4c2261f710d249586a25e24cf9067-lock-0000000077"), 77);
  EXPECT_EQ(sequence_number("lock-2147483647"), 2147483647);
  EXPECT_EQ(sequence_number("x-999999999999999999"), 999999999999999999);
  EXPECT_EQ(sequence_number("x-123456789012345678"), 123456789012345678);
  EXPECT_EQ(sequence_number("x-1234567890123456789"), std::nullopt);  // 19 digits
  EXPECT_EQ(sequence_number("87654321"), 87654321);
  EXPECT_EQ(sequence_number("x-0000000a00"), std::nullopt);
  EXPECT_EQ(sequence_number("x-"), std::nullopt);
}

RC_GTEST_PROP(DataTreeProperty, SequenceNumberAgreesWithTheLastDashReading, ()) {
  static const char kAlphabet[] = {'-', '0', '7', '9', 'a', '/', '_', '+'};
  const auto picks = *rc::gen::container<std::vector<size_t>>(rc::gen::weightedOneOf<size_t>(
      {{1, rc::gen::inRange<size_t>(0, sizeof kAlphabet)}, {4, rc::gen::inRange<size_t>(1, 4)}}));
  std::string name;
  for (size_t k : picks) name += kAlphabet[k];
  RC_ASSERT(sequence_number(name) == after_last_dash(name));
}

TEST_F(DataTreeTest, ServerRefusesCharactersTheClientLetsThrough) {
  // The C client stops at 0x1e; the server's PathUtils also refuses 0x1f, DEL, C1
  // controls and anything outside the BMP.
  for (std::string p : {"/a\x1f", "/a\x7f", "/a\xc2\x80", "/a\xf0\x9f\x98\x80", "/a\xff"}) {
    int64_t before = t.last_zxid();
    EXPECT_EQ(mk(p).err, Error::BadArguments);
    EXPECT_EQ(t.last_zxid(), before + 1);
    EXPECT_FALSE(t.contains(p));
  }
  EXPECT_EQ(mk("/caf\xc3\xa9").err, Error::Ok);
}

TEST_F(DataTreeTest, RemoveErrorsAndVersions) {
  mk("/a");
  mk("/a/b");
  put("/a/b", "x");
  EXPECT_EQ(rm("/"), Error::BadArguments);
  EXPECT_EQ(rm("/zookeeper"), Error::BadArguments);
  EXPECT_EQ(rm("/zookeeper/quota"), Error::BadArguments);
  EXPECT_EQ(rm("/nope"), Error::NoNode);
  EXPECT_EQ(rm("/nope/deeper"), Error::NoNode);
  EXPECT_EQ(rm("/a"), Error::NotEmpty);
  EXPECT_EQ(rm("/a/b", 0), Error::BadVersion);
  EXPECT_EQ(rm("/a/b", 1), Error::Ok);
  EXPECT_FALSE(t.contains("/a/b"));
  Stat parent = stat_of("/a");
  EXPECT_EQ(parent.num_children, 0);
  EXPECT_EQ(parent.pzxid, t.last_zxid());
  EXPECT_EQ(rm("/a", -1), Error::Ok);
}

TEST_F(DataTreeTest, BadVersionIsCheckedBeforeNotEmpty) {
  mk("/a");
  mk("/a/b");
  EXPECT_EQ(rm("/a", 7), Error::BadVersion);
}

TEST_F(DataTreeTest, SetBumpsVersionAndKeepsCreation) {
  CreateReply c = mk("/a", CreateMode::Persistent, S1, 0, 10, "v0");
  SetReply s1 = put("/a", "version one", 0, 20);
  ASSERT_EQ(s1.err, Error::Ok);
  EXPECT_EQ(s1.stat.version, 1);
  EXPECT_EQ(s1.stat.mzxid, t.last_zxid());
  EXPECT_EQ(s1.stat.mtime, 20);
  EXPECT_EQ(s1.stat.czxid, c.stat.czxid);
  EXPECT_EQ(s1.stat.ctime, 10);
  EXPECT_EQ(s1.stat.pzxid, c.stat.pzxid);
  EXPECT_EQ(s1.stat.data_length, 11);
  EXPECT_EQ(put("/a", "x", 0).err, Error::BadVersion);
  EXPECT_EQ(put("/a", "y", -1).stat.version, 2);
  EXPECT_EQ(put("/a", "z", 2).stat.version, 3);
  EXPECT_EQ(put("/nope", "z").err, Error::NoNode);
  EXPECT_EQ(t.get(S1, "/a", false).data, "z");
}

TEST_F(DataTreeTest, ConfigNodeIsReadOnly) {
  EXPECT_EQ(put("/zookeeper/config", "x").err, Error::NoAuth);
  EXPECT_EQ(mk("/zookeeper/config/x").err, Error::NoAuth);
  EXPECT_EQ(rm("/zookeeper/config/x"), Error::NoAuth);
  EXPECT_EQ(t.get(S1, "/zookeeper/config", false).err, Error::Ok);
}

TEST_F(DataTreeTest, EveryWriteConsumesOneZxidEvenWhenItFails) {
  mk("/a");
  int64_t z = t.last_zxid();
  EXPECT_EQ(mk("/a").err, Error::NodeExists);
  EXPECT_EQ(t.last_zxid(), ++z);
  EXPECT_EQ(rm("/missing"), Error::NoNode);
  EXPECT_EQ(t.last_zxid(), ++z);
  EXPECT_EQ(put("/a", "x", 42).err, Error::BadVersion);
  EXPECT_EQ(t.last_zxid(), ++z);
  EXPECT_EQ(rm("/"), Error::BadArguments);
  EXPECT_EQ(t.last_zxid(), ++z);
  EXPECT_EQ(t.multi(S1, {Op::check("/a", 9)}, 0, fired).err, Error::BadVersion);
  EXPECT_EQ(t.last_zxid(), ++z);
  t.get(S1, "/a", true);
  t.exists(S1, "/b", true);
  t.children(S1, "/a", true);
  EXPECT_EQ(t.last_zxid(), z);
  EXPECT_EQ(t.next_zxid(), ++z);
  // A successful create's node carries the zxid it consumed.
  EXPECT_EQ(mk("/b").stat.czxid, ++z);
}

TEST_F(DataTreeTest, TtlBoundsAreCheckedByTheClient) {
  int64_t z = t.last_zxid();
  EXPECT_EQ(mk("/t", CreateMode::PersistentWithTtl, S1, 0).err, Error::BadArguments);
  EXPECT_EQ(mk("/t", CreateMode::PersistentWithTtl, S1, -5).err, Error::BadArguments);
  EXPECT_EQ(mk("/t", CreateMode::PersistentSequentialWithTtl, S1, DataTree::kMaxTtlMs + 1).err,
            Error::BadArguments);
  EXPECT_EQ(t.last_zxid(), z);
  EXPECT_EQ(mk("/t", CreateMode::PersistentWithTtl, S1, DataTree::kMaxTtlMs).err, Error::Ok);
  // Other modes take no TTL: the client refuses one (as the live server shows).
  z = t.last_zxid();
  EXPECT_EQ(mk("/p", CreateMode::Persistent, S1, 12345).err, Error::BadArguments);
  EXPECT_EQ(mk("/p", CreateMode::Container, S1, 12345).err, Error::BadArguments);
  EXPECT_EQ(t.last_zxid(), z);
  EXPECT_FALSE(t.contains("/p"));
}

TEST_F(DataTreeTest, EphemeralOwnerEncodings) {
  CreateReply ttl = mk("/t", CreateMode::PersistentWithTtl, S1, 60000);
  ASSERT_EQ(ttl.err, Error::Ok);
  EXPECT_EQ(static_cast<uint64_t>(t.stored_ephemeral_owner("/t")), 0xFF0000000000EA60ULL);
  // DataNode.copyStat shows clients 0 for TTL and container nodes.
  EXPECT_EQ(ttl.stat.ephemeral_owner, 0);
  EXPECT_EQ(stat_of("/t").ephemeral_owner, 0);
  CreateReply seq_ttl = mk("/t/s-", CreateMode::PersistentSequentialWithTtl, S1, 1);
  EXPECT_EQ(seq_ttl.path, "/t/s-0000000000");
  EXPECT_EQ(static_cast<uint64_t>(t.stored_ephemeral_owner(seq_ttl.path)), 0xFF00000000000001ULL);
  CreateReply c = mk("/c", CreateMode::Container);
  EXPECT_EQ(static_cast<uint64_t>(t.stored_ephemeral_owner("/c")), 0x8000000000000000ULL);
  EXPECT_EQ(c.stat.ephemeral_owner, 0);
  EXPECT_EQ(mk("/e", CreateMode::Ephemeral, S2).stat.ephemeral_owner, S2);
  EXPECT_EQ(mk("/es", CreateMode::EphemeralSequential, S2).stat.ephemeral_owner, S2);
  EXPECT_EQ(t.ephemerals_of(S2), (std::vector<std::string>{"/e", "/es0000000003"}));
  EXPECT_TRUE(t.ephemerals_of(S1).empty());
}

TEST_F(DataTreeTest, MultiAppliesAllWithOneZxid) {
  mk("/m");
  put("/m", "x");
  int64_t z = t.last_zxid();
  MultiReply r = t.multi(S1,
                         {Op::check("/m", 1), Op::create("/m/a", "A", CreateMode::Persistent),
                          Op::create("/m/s-", "", CreateMode::EphemeralSequential),
                          Op::set("/m/a", "AA", 0), Op::set("/m", "y", 1)},
                         77, fired);
  ASSERT_EQ(r.err, Error::Ok);
  EXPECT_EQ(t.last_zxid(), z + 1);
  ASSERT_EQ(r.results.size(), 5u);
  for (const OpResult& res : r.results) EXPECT_EQ(res.err, Error::Ok);
  EXPECT_EQ(r.results[1].path, "/m/a");
  EXPECT_EQ(r.results[1].stat.czxid, z + 1);
  EXPECT_EQ(r.results[1].stat.ctime, 77);
  EXPECT_EQ(r.results[2].path, "/m/s-0000000001");
  EXPECT_EQ(r.results[2].stat.ephemeral_owner, S1);
  EXPECT_EQ(r.results[3].stat.version, 1);
  EXPECT_EQ(r.results[3].stat.czxid, z + 1);
  EXPECT_EQ(r.results[4].stat.version, 2);
  EXPECT_EQ(t.get(S1, "/m/a", false).data, "AA");
  EXPECT_EQ(t.ephemerals_of(S1), (std::vector<std::string>{"/m/s-0000000001"}));
}

TEST_F(DataTreeTest, MultiOpsSeeEarlierOpsOfTheSameMulti) {
  mk("/m");
  MultiReply r =
      t.multi(S1,
              {Op::create("/m/x", "", CreateMode::Persistent), Op::check("/m/x", 0),
               Op::remove("/m/x", 0), Op::create("/m/x", "again", CreateMode::Ephemeral),
               Op::remove("/m/x"), Op::create("/m/s", "", CreateMode::PersistentSequential)},
              0, fired);
  ASSERT_EQ(r.err, Error::Ok);
  EXPECT_FALSE(t.contains("/m/x"));
  EXPECT_TRUE(t.ephemerals_of(S1).empty());
  // Two creations of /m/x came first.
  EXPECT_EQ(r.results[5].path, "/m/s0000000002");
}

TEST_F(DataTreeTest, MultiFailureAppliesNothing) {
  mk("/m");
  mk("/m/keep", CreateMode::Persistent, S1, 0, 0, "orig");
  t.exists(S2, "/m/new", true);
  t.children(S2, "/m", true);
  t.get(S2, "/m/keep", true);
  Stat before = stat_of("/m");
  int64_t z = t.last_zxid();
  MultiReply r = t.multi(
      S1,
      {Op::create("/m/new", "", CreateMode::Ephemeral),
       Op::create("/m/s-", "", CreateMode::PersistentSequential), Op::set("/m/keep", "changed"),
       Op::remove("/m/keep", 5), Op::create("/m/after", "", CreateMode::Persistent)},
      0, fired);
  EXPECT_EQ(r.err, Error::BadVersion);
  ASSERT_EQ(r.results.size(), 5u);
  EXPECT_EQ(r.results[0].err, Error::Ok);
  EXPECT_EQ(r.results[1].err, Error::Ok);
  EXPECT_EQ(r.results[2].err, Error::Ok);
  EXPECT_EQ(r.results[3].err, Error::BadVersion);
  EXPECT_EQ(r.results[4].err, Error::RuntimeInconsistency);
  EXPECT_EQ(t.last_zxid(), z + 1);
  EXPECT_FALSE(t.contains("/m/new"));
  EXPECT_FALSE(t.contains("/m/s-0000000002"));
  EXPECT_FALSE(t.contains("/m/after"));
  EXPECT_EQ(t.get(S1, "/m/keep", false).data, "orig");
  EXPECT_EQ(stat_of("/m"), before);
  EXPECT_TRUE(t.ephemerals_of(S1).empty());
  // No watch fired, and every registration is still there.
  EXPECT_TRUE(take().empty());
  EXPECT_EQ(t.watch_count(), 3u);
  // The sequence counter was rolled back too.
  EXPECT_EQ(mk("/m/s-", CreateMode::PersistentSequential).path, "/m/s-0000000001");
}

TEST_F(DataTreeTest, MultiFailureInTheFirstOp) {
  MultiReply r = t.multi(S1, {Op::remove("/nope"), Op::check("/", -1)}, 0, fired);
  EXPECT_EQ(r.err, Error::NoNode);
  ASSERT_EQ(r.results.size(), 2u);
  EXPECT_EQ(r.results[0].err, Error::NoNode);
  EXPECT_EQ(r.results[1].err, Error::RuntimeInconsistency);
}

TEST_F(DataTreeTest, EmptyMultiSucceedsAndConsumesAZxid) {
  int64_t z = t.last_zxid();
  MultiReply r = t.multi(S1, {}, 0, fired);
  EXPECT_EQ(r.err, Error::Ok);
  EXPECT_TRUE(r.results.empty());
  EXPECT_EQ(t.last_zxid(), z + 1);
}

TEST_F(DataTreeTest, MultiRequestsTheCClientCannotSend) {
  mk("/m");
  int64_t z = t.last_zxid();
  // zoo_amulti has no encoding for a TTL create.
  MultiReply ttl = t.multi(S1,
                           {Op::create("/m/a", "", CreateMode::Persistent),
                            Op::create("/m/t", "", CreateMode::PersistentWithTtl)},
                           0, fired);
  EXPECT_EQ(ttl.err, Error::Unimplemented);
  // Refused as a whole before sending: no per-op results (as the live client answers).
  EXPECT_TRUE(ttl.results.empty());
  // An invalid path fails its serialization.
  MultiReply bad =
      t.multi(S1, {Op::create("/m/a", "", CreateMode::Persistent), Op::check("m", -1)}, 0, fired);
  EXPECT_EQ(bad.err, Error::MarshallingError);
  EXPECT_TRUE(bad.results.empty());
  EXPECT_EQ(t.last_zxid(), z);
  EXPECT_FALSE(t.contains("/m/a"));
  // A sequential create may end in '/' inside a multi too.
  EXPECT_EQ(t.multi(S1, {Op::create("/m/", "", CreateMode::PersistentSequential)}, 0, fired)
                .results[0]
                .path,
            "/m/0000000000");
}

// The C client cannot carry a container create in a multi (it aborts decoding the reply),
// so no store sends one: the whole multi is refused, and nothing is applied.
TEST_F(DataTreeTest, MultiRefusesContainerCreates) {
  MultiReply r = t.multi(
      S1,
      {Op::create("/a", "", CreateMode::Persistent), Op::create("/c", "", CreateMode::Container)},
      0, fired);
  EXPECT_EQ(r.err, Error::Unimplemented);
  EXPECT_TRUE(r.results.empty());
  EXPECT_EQ(t.exists(S1, "/a", false).err, Error::NoNode);
  EXPECT_EQ(t.exists(S1, "/c", false).err, Error::NoNode);
}

TEST_F(DataTreeTest, WatchesAreOneShot) {
  mk("/a");
  ReadResult g = t.get(S1, "/a", true);
  EXPECT_TRUE(g.watch_set);
  put("/a", "1");
  auto f = take();
  ASSERT_EQ(f.size(), 1u);
  EXPECT_TRUE(same(f[0], S1, WatchEventType::DataChanged, "/a"));
  EXPECT_EQ(t.watch_count(), 0u);
  put("/a", "2");
  EXPECT_TRUE(take().empty());
}

TEST_F(DataTreeTest, ASessionWatchingTwiceIsToldOnce) {
  mk("/a");
  t.get(S1, "/a", true);
  t.exists(S1, "/a", true);
  t.get(S1, "/a", true);
  t.get(S2, "/a", true);
  EXPECT_EQ(t.watch_count(), 2u);
  put("/a", "1");
  auto f = take();
  ASSERT_EQ(f.size(), 2u);
  EXPECT_TRUE(same(f[0], S1, WatchEventType::DataChanged, "/a"));
  EXPECT_TRUE(same(f[1], S2, WatchEventType::DataChanged, "/a"));
}

TEST_F(DataTreeTest, ExistsWatchOnAMissingNodeFiresOnCreation) {
  mk("/p");
  ReadResult e = t.exists(S1, "/p/n", true);
  EXPECT_EQ(e.err, Error::NoNode);
  EXPECT_TRUE(e.watch_set);
  t.children(S2, "/p", true);
  mk("/p/n");
  auto f = take();
  ASSERT_EQ(f.size(), 2u);
  EXPECT_TRUE(same(f[0], S1, WatchEventType::Created, "/p/n"));
  EXPECT_TRUE(same(f[1], S2, WatchEventType::ChildrenChanged, "/p"));
}

TEST_F(DataTreeTest, ReadsOfMissingNodesRegisterNothing) {
  ReadResult g = t.get(S1, "/nope", true);
  ReadResult c = t.children(S1, "/nope", true);
  EXPECT_EQ(g.err, Error::NoNode);
  EXPECT_EQ(c.err, Error::NoNode);
  EXPECT_FALSE(g.watch_set);
  EXPECT_FALSE(c.watch_set);
  EXPECT_EQ(t.watch_count(), 0u);
  mk("/nope");
  EXPECT_TRUE(take().empty());
}

TEST_F(DataTreeTest, DeleteFiresDeletedOnceAndChildrenChangedOnParent) {
  mk("/p");
  mk("/p/n");
  t.get(S1, "/p/n", true);
  t.children(S1, "/p/n", true);  // S1 is in both tables for /p/n
  t.children(S2, "/p/n", true);  // S2 only in the child table
  t.children(S3, "/p", true);
  ASSERT_EQ(rm("/p/n"), Error::Ok);
  auto f = take();
  ASSERT_EQ(f.size(), 3u);
  EXPECT_TRUE(same(f[0], S1, WatchEventType::Deleted, "/p/n"));
  EXPECT_TRUE(same(f[1], S2, WatchEventType::Deleted, "/p/n"));
  EXPECT_TRUE(same(f[2], S3, WatchEventType::ChildrenChanged, "/p"));
  EXPECT_EQ(t.watch_count(), 0u);
}

TEST_F(DataTreeTest, SetDoesNotFireChildWatches) {
  mk("/p");
  mk("/p/n");
  t.children(S1, "/p/n", true);
  t.children(S1, "/p", true);
  put("/p/n", "x");
  EXPECT_TRUE(take().empty());
  EXPECT_EQ(t.watch_count(), 2u);
}

TEST_F(DataTreeTest, KillSessionDeletesItsEphemeralsInOneTransaction) {
  mk("/l");
  mk("/l/b", CreateMode::Ephemeral, S1);
  mk("/l/a", CreateMode::Ephemeral, S1);
  mk("/l/other", CreateMode::Ephemeral, S2);
  t.get(S2, "/l/a", true);
  t.exists(S2, "/l/b", true);
  t.children(S3, "/l", true);
  t.get(S1, "/l/other", true);  // the dying session's own watch
  t.exists(S1, "/l/a", true);
  int64_t z = t.last_zxid();
  t.kill_session(S1, fired);
  EXPECT_EQ(t.last_zxid(), z + 1);
  EXPECT_FALSE(t.contains("/l/a"));
  EXPECT_FALSE(t.contains("/l/b"));
  EXPECT_TRUE(t.contains("/l/other"));
  EXPECT_TRUE(t.ephemerals_of(S1).empty());
  EXPECT_EQ(t.ephemerals_of(S2), (std::vector<std::string>{"/l/other"}));
  auto f = take();
  ASSERT_EQ(f.size(), 3u);
  EXPECT_TRUE(same(f[0], S2, WatchEventType::Deleted, "/l/a"));
  EXPECT_TRUE(same(f[1], S3, WatchEventType::ChildrenChanged, "/l"));
  EXPECT_TRUE(same(f[2], S2, WatchEventType::Deleted, "/l/b"));
  EXPECT_EQ(t.watch_count(), 0u);
  Stat parent = stat_of("/l");
  EXPECT_EQ(parent.pzxid, z + 1);
  EXPECT_EQ(parent.num_children, 1);
  // A session without ephemerals still closes in a transaction of its own.
  t.kill_session(S3, fired);
  EXPECT_EQ(t.last_zxid(), z + 2);
}

TEST_F(DataTreeTest, DropWatchesForgetsOnlyThatSession) {
  mk("/a");
  t.get(S1, "/a", true);
  t.children(S1, "/a", true);
  t.exists(S1, "/b", true);
  t.get(S2, "/a", true);
  t.drop_watches(S1);
  EXPECT_EQ(t.watch_count(), 1u);
  EXPECT_EQ(t.data_watchers("/a"), (std::set<int64_t>{S2}));
  put("/a", "x");
  mk("/b");
  auto f = take();
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].session, S2);
}

TEST_F(DataTreeTest, SetWatchesFiresWhatChangedSinceTheClientsZxid) {
  mk("/same");
  mk("/changed");
  mk("/gone");
  mk("/kids");
  mk("/quiet");
  int64_t seen = t.last_zxid();
  put("/changed", "x");
  rm("/gone");
  mk("/kids/k");
  mk("/born");
  t.set_watches(S1, seen, {"/same", "/changed", "/gone"}, {"/born", "/unborn"},
                {"/kids", "/quiet", "/gone"}, fired);
  auto f = take();
  ASSERT_EQ(f.size(), 5u);
  EXPECT_TRUE(same(f[0], S1, WatchEventType::DataChanged, "/changed"));
  EXPECT_TRUE(same(f[1], S1, WatchEventType::Deleted, "/gone"));
  EXPECT_TRUE(same(f[2], S1, WatchEventType::Created, "/born"));
  EXPECT_TRUE(same(f[3], S1, WatchEventType::ChildrenChanged, "/kids"));
  EXPECT_TRUE(same(f[4], S1, WatchEventType::Deleted, "/gone"));
  EXPECT_EQ(t.data_watchers("/same"), (std::set<int64_t>{S1}));
  EXPECT_EQ(t.data_watchers("/unborn"), (std::set<int64_t>{S1}));
  EXPECT_EQ(t.child_watchers("/quiet"), (std::set<int64_t>{S1}));
  EXPECT_EQ(t.watch_count(), 3u);
  EXPECT_EQ(t.last_zxid(), seen + 4);  // set_watches is not a transaction
  mk("/unborn");
  auto g = take();
  ASSERT_EQ(g.size(), 1u);
  EXPECT_TRUE(same(g[0], S1, WatchEventType::Created, "/unborn"));
}

TEST_F(DataTreeTest, TtlNodesExpireOnTheServerClock) {
  mk("/t", CreateMode::PersistentWithTtl, S1, 1000, 0);
  mk("/busy", CreateMode::PersistentWithTtl, S1, 1000, 0);
  mk("/busy/child");
  t.exists(S2, "/t", true);
  int64_t z = t.last_zxid();
  t.expire_ttl_and_containers(1000, fired);  // not yet: needs now - mtime > ttl
  EXPECT_TRUE(t.contains("/t"));
  EXPECT_EQ(t.last_zxid(), z);
  put("/t", "touch", -1, 500);  // a write restarts the clock
  t.exists(S2, "/t", true);
  z = t.last_zxid();
  t.expire_ttl_and_containers(1001, fired);
  EXPECT_TRUE(t.contains("/t"));
  EXPECT_TRUE(t.contains("/busy"));
  t.expire_ttl_and_containers(1501, fired);
  EXPECT_FALSE(t.contains("/t"));
  EXPECT_TRUE(t.contains("/busy"));
  EXPECT_EQ(t.last_zxid(), z + 1);
  auto f = take();
  ASSERT_EQ(f.size(), 2u);
  EXPECT_TRUE(same(f[0], S2, WatchEventType::DataChanged, "/t"));
  EXPECT_TRUE(same(f[1], S2, WatchEventType::Deleted, "/t"));
  rm("/busy/child");
  t.expire_ttl_and_containers(1502, fired);
  EXPECT_FALSE(t.contains("/busy"));
}

TEST_F(DataTreeTest, EmptyContainersGoOnlyAfterHavingHadChildren) {
  mk("/fresh", CreateMode::Container);
  mk("/used", CreateMode::Container);
  mk("/used/a");
  mk("/used/b", CreateMode::Ephemeral, S2);
  t.expire_ttl_and_containers(1'000'000, fired);
  EXPECT_TRUE(t.contains("/fresh"));
  EXPECT_TRUE(t.contains("/used"));
  rm("/used/a");
  t.kill_session(S2, fired);
  t.children(S1, "/", true);
  int64_t z = t.last_zxid();
  t.expire_ttl_and_containers(1'000'001, fired);
  EXPECT_TRUE(t.contains("/fresh"));
  EXPECT_FALSE(t.contains("/used"));
  EXPECT_EQ(t.last_zxid(), z + 1);
  auto f = take();
  ASSERT_EQ(f.size(), 1u);
  EXPECT_TRUE(same(f[0], S1, WatchEventType::ChildrenChanged, "/"));
}

TEST_F(DataTreeTest, NestedContainersGoOnePassAtATime) {
  mk("/outer", CreateMode::Container);
  mk("/outer/inner", CreateMode::Container);
  mk("/outer/inner/x");
  rm("/outer/inner/x");
  t.expire_ttl_and_containers(0, fired);
  EXPECT_FALSE(t.contains("/outer/inner"));
  EXPECT_TRUE(t.contains("/outer"));
  t.expire_ttl_and_containers(0, fired);
  EXPECT_FALSE(t.contains("/outer"));
}

TEST_F(DataTreeTest, ReadsAndInspection) {
  mk("/r", CreateMode::Persistent, S1, 0, 0, "data");
  mk("/r/b");
  mk("/r/a");
  mk("/r/a/deep");
  mk("/rr");
  ReadResult c = t.children(S1, "/r", false);
  EXPECT_EQ(*c.children, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(c.stat.num_children, 2);
  ReadResult g = t.get(S1, "/r", false);
  EXPECT_EQ(g.data, "data");
  EXPECT_FALSE(g.watch_set);
  EXPECT_EQ(t.exists(S1, "/r/a", false).stat.num_children, 1);
  EXPECT_EQ(t.paths_under("/r"), (std::vector<std::string>{"/r/a", "/r/a/deep", "/r/b"}));
  EXPECT_EQ(t.paths_under("/r/b"), std::vector<std::string>{});
  EXPECT_EQ(t.paths_under("/").size(), 8u);
}

// Random creates and removes under a few parents: every node's numChildren matches its
// children, a parent's visible cversion counts creations plus deletions, sequence
// suffixes never repeat and grow under each parent, and each write takes one zxid.
RC_GTEST_PROP(DataTreeProperty, ChildCountsAndSequenceNumbers,
              (const std::vector<std::tuple<uint8_t, uint8_t, uint8_t>>& commands)) {
  DataTree t;
  std::vector<WatchFire> fired;
  const std::vector<std::string> parents = {"/p", "/p/q", "/r"};
  for (const auto& p : parents) t.create(S1, p, "", CreateMode::Persistent, 0, 0, fired);
  std::map<std::string, int> changes;  // creations + deletions of children, per parent
  changes["/p"] = 1;                   // "/p/q"
  std::map<std::string, int64_t> last_seq;
  std::set<std::string> seq_names;
  const CreateMode modes[] = {CreateMode::Persistent, CreateMode::Ephemeral,
                              CreateMode::PersistentSequential, CreateMode::EphemeralSequential};
  for (const auto& [what, which, arg] : commands) {
    const std::string& parent = parents[which % parents.size()];
    int64_t z = t.last_zxid();
    if (what % 3 != 2) {
      CreateMode mode = modes[arg % 4];
      std::string path = parent + "/n" + (is_sequential(mode) ? "-" : std::to_string(arg % 5));
      CreateReply r = t.create(1 + arg % 3, path, "", mode, 0, 0, fired);
      if (r.err == Error::Ok) {
        changes[parent]++;
        if (is_sequential(mode)) {
          auto n = sequence_number(base_name(r.path));
          RC_ASSERT(n.has_value());
          RC_ASSERT(seq_names.insert(r.path).second);
          RC_ASSERT(!last_seq.count(parent) || *n > last_seq[parent]);
          last_seq[parent] = *n;
        }
      } else {
        RC_ASSERT(r.err == Error::NodeExists);
      }
    } else if (what % 6 == 2) {
      std::vector<std::string> kids = t.children(S1, parent, false).children->to_vector();
      if (!kids.empty()) {
        std::string victim = join_path(parent, kids[arg % kids.size()]);
        if (victim == "/p/q") continue;  // keep every parent alive
        Error e = t.remove(victim, -1, fired);
        RC_ASSERT(e == Error::Ok || e == Error::NotEmpty);
        if (e == Error::Ok) changes[parent]++;
      } else {
        RC_ASSERT(t.remove(parent + "/none", -1, fired) == Error::NoNode);
      }
    } else {
      int64_t session = 1 + arg % 3;
      for (const std::string& e : t.ephemerals_of(session)) changes[parent_path(e)]++;
      t.kill_session(session, fired);
    }
    RC_ASSERT(t.last_zxid() == z + 1);
    for (const std::string& path : t.paths_under("/")) {
      ReadResult r = t.children(S1, path, false);
      RC_ASSERT(r.stat.num_children == static_cast<int32_t>(r.children->size()));
    }
    for (const auto& p : parents) RC_ASSERT(t.exists(S1, p, false).stat.cversion == changes[p]);
    for (int64_t s = 1; s <= 3; ++s)
      for (const std::string& e : t.ephemerals_of(s))
        RC_ASSERT(t.exists(S1, e, false).stat.ephemeral_owner == s);
  }
}

}  // namespace
}  // namespace lockstep
