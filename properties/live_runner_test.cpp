// `lockstep live` as a user runs it: the lockstep binary beside this test, spawned as a
// subprocess, its clients real processes on the ZooKeeper of LOCKSTEP_ZK (skipped
// without one; the kill-leader test starts a 3-node ensemble of its own with scripts/zk).
// After every run: the run's nodes are gone from the server and none of its client
// processes is left.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "core/lock.h"
#include "core/store.h"
#include "properties/live_harness.h"
#include "real/event_loop.h"
#include "real/live_client.h"
#include "real/live_env.h"
#include "real/zk_store.h"

extern char** environ;

namespace lockstep::real {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

// The wire between a client and its coordinator, and the client's command line: what
// goes in comes out. No server needed.
TEST(LiveWire, MessagesRoundTrip) {
  ClientMessage e;
  e.kind = ClientMessage::Kind::Event;
  e.event.lo = Time(123456789);
  e.event.hi = Time(123456999);
  e.event.kind = EventKind::ResourceWrite;
  e.event.token = 42;
  e.event.value = -7;
  e.event.outcome = WriteOutcome::Accepted;
  e.event.zxid = 77;
  e.event.issued = Time(123000000);
  e.event.detail = "refused: a\\b\nc\td  e";
  auto back = decode_message(encode_message(e), 5);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->kind, ClientMessage::Kind::Event);
  EXPECT_EQ(back->client, 5);
  EXPECT_EQ(back->event.client, 5);
  EXPECT_EQ(back->event.lo, e.event.lo);
  EXPECT_EQ(back->event.hi, e.event.hi);
  EXPECT_EQ(back->event.kind, EventKind::ResourceWrite);
  EXPECT_EQ(back->event.token, std::optional<uint64_t>(42));
  EXPECT_EQ(back->event.value, std::optional<int64_t>(-7));
  EXPECT_EQ(back->event.outcome, std::optional<WriteOutcome>(WriteOutcome::Accepted));
  EXPECT_EQ(back->event.zxid, std::optional<int64_t>(77));
  EXPECT_EQ(back->event.issued, std::optional<Time>(Time(123000000)));
  EXPECT_EQ(back->event.detail, e.event.detail);
  EXPECT_EQ(encode_message(e).find('\n'), std::string::npos);

  HistoryEvent bare;
  bare.kind = EventKind::Acquired;
  ClientMessage b;
  b.event = bare;
  auto bare_back = decode_message(encode_message(b), 0);
  ASSERT_TRUE(bare_back);
  EXPECT_FALSE(bare_back->event.token);
  EXPECT_FALSE(bare_back->event.value);
  EXPECT_FALSE(bare_back->event.outcome);
  EXPECT_FALSE(bare_back->event.zxid);
  EXPECT_FALSE(bare_back->event.issued);
  EXPECT_TRUE(bare_back->event.detail.empty());

  ClientMessage s;
  s.kind = ClientMessage::Kind::Session;
  s.store = -1;
  s.session_id = 0x1000040998d0004;
  s.passwd = std::string("\x00\x01\xff ab\n", 6);
  auto s_back = decode_message(encode_message(s), 2);
  ASSERT_TRUE(s_back);
  EXPECT_EQ(s_back->store, -1);
  EXPECT_EQ(s_back->session_id, s.session_id);
  EXPECT_EQ(s_back->passwd, s.passwd);

  EXPECT_FALSE(decode_message("E 1 2", 0));
  EXPECT_FALSE(decode_message("E 1 2 99 - - - - - x", 0));        // no such event kind
  EXPECT_FALSE(decode_message("E 1 2 8 - - maybe - - x", 0));     // no such write outcome
  EXPECT_FALSE(decode_message("E 1 2 8 - - accepted z - x", 0));  // a zxid that is no number
  EXPECT_FALSE(decode_message("E 1 2 8 - - accepted 7 i x", 0));  // an issue time that is none
  EXPECT_FALSE(decode_message("Z whatever", 0));
}

TEST(LiveWire, ClientSpecRoundTrips) {
  LiveClientSpec s;
  s.index = 3;
  s.algorithm = "redlock";
  s.options = {{"stores", "3"}, {"value", "a=b c"}};
  s.lock_path = "/lockstep/live-1-2/locks/a";
  s.cycles = 7;
  s.hold = 250ms;
  s.think = 3ms;
  s.acquire_timeout = 9s;
  s.session_timeout = 6s;
  s.resource = true;
  s.fenced = false;
  s.separate_resource = true;
  s.resource_session_timeout = 40s;
  s.fencing = "czxid";
  s.connect = {"127.0.0.1:1", "127.0.0.1:2/x", "127.0.0.1:3"};
  LiveClientSpec b = decode_client_spec(encode_client_spec(s));
  EXPECT_EQ(b.index, s.index);
  EXPECT_EQ(b.algorithm, s.algorithm);
  EXPECT_EQ(b.options, s.options);
  EXPECT_EQ(b.lock_path, s.lock_path);
  EXPECT_EQ(b.cycles, s.cycles);
  EXPECT_EQ(b.hold, s.hold);
  EXPECT_EQ(b.think, s.think);
  EXPECT_EQ(b.acquire_timeout, s.acquire_timeout);
  EXPECT_EQ(b.session_timeout, s.session_timeout);
  EXPECT_EQ(b.resource, s.resource);
  EXPECT_EQ(b.fenced, s.fenced);
  EXPECT_EQ(b.separate_resource, s.separate_resource);
  EXPECT_EQ(b.resource_session_timeout, s.resource_session_timeout);
  EXPECT_EQ(b.fencing, s.fencing);
  EXPECT_EQ(b.connect, s.connect);
  EXPECT_EQ(b.resource_connect, "");
  EXPECT_THROW(decode_client_spec({"--bogus", "1"}), std::invalid_argument);
  EXPECT_THROW(decode_client_spec({"--cycles", "x"}), std::invalid_argument);
}

// Every algorithm of the catalogue, 8 contending processes: each acquires and releases,
// no overlap, every client finishes, no lock node is left. zk-fast may hang by its
// documented hole (a waiter watching request-(n-1) literally): for it only mutual
// exclusion is asserted. `local` is an in-process lock (separate processes share
// nothing), so its clients are the threads of one process on the local: store.
class EveryAlgorithm : public LiveRunner, public ::testing::WithParamInterface<std::string> {};

TEST_P(EveryAlgorithm, EightContendingProcesses) {
  const std::string algo = GetParam();
  const bool may_hang = algo == "zk-fast";
  const bool in_process = algo == "local";
  const std::string store = in_process ? "local:" : std::string("zk:") + zk_address();
  Outcome o =
      live({"--store", store, "--algo", algo, "--clients", "8", "--cycles", "3", "--hold", "5ms",
            "--think", "1ms", "--acquire-timeout", may_hang ? "3s" : "10s", "--duration", "15s"},
           in_process ? "" : zk_address());
  EXPECT_TRUE(o.passed("mutual-exclusion")) << o.out;
  if (!may_hang) {
    EXPECT_EQ(o.status, 0) << o.out;
    EXPECT_TRUE(o.passed("liveness")) << o.out;
    EXPECT_EQ(count(o, "acquired"), 24) << o.out;
    EXPECT_EQ(count(o, "released"), 24) << o.out;
  }
}

// recipe's handoff=direct on a live server: 8 processes with no hold and no think time, so
// a waiter is nearly always next in line and takes the lock on the notification.
TEST_F(LiveRunner, RecipeDirectHandoffEightProcesses) {
  Outcome o = live({"--store", std::string("zk:") + zk_address(), "--algo", "recipe", "--option",
                    "handoff=direct", "--clients", "8", "--cycles", "10", "--hold", "0ms",
                    "--think", "0ms", "--acquire-timeout", "10s", "--duration", "20s"},
                   zk_address());
  EXPECT_EQ(o.status, 0) << o.out;
  EXPECT_TRUE(o.passed("mutual-exclusion")) << o.out;
  EXPECT_TRUE(o.passed("liveness")) << o.out;
  EXPECT_EQ(count(o, "acquired"), 80) << o.out;
  EXPECT_EQ(count(o, "released"), 80) << o.out;
}

std::vector<std::string> catalogue() {
  std::vector<std::string> names;
  for (const auto& a : algorithms()) names.push_back(a.name);
  return names;
}

INSTANTIATE_TEST_SUITE_P(Catalogue, EveryAlgorithm, ::testing::ValuesIn(catalogue()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           for (char& c : name)
                             if (c == '-') c = '_';
                           return name;
                         });

// The holder is stopped (SIGSTOP) for 8 s, twice its session timeout, half a second after
// the first grant (an event, not a time: a slow start under a sanitizer changes nothing).
// Its session expires, the other client takes the lock while the stopped one still
// believes it holds it, and the checker reports the overlap. The resource (on a session of
// its own that outlives the pause) refuses the stale holder's write when it wakes: fencing
// and lost-update hold while mutual exclusion fails.
TEST_F(LiveRunner, PausedHolderOverlapsAndFencingRefusesItsWrite) {
  Outcome o = live({"--store",
                    std::string("zk:") + zk_address(),
                    "--algo",
                    "recipe",
                    "--clients",
                    "2",
                    "--cycles",
                    "2",
                    "--hold",
                    "3s",
                    "--think",
                    "10ms",
                    "--session-timeout",
                    "4s",
                    "--resource",
                    "fenced",
                    "--resource-store",
                    "separate",
                    "--fault",
                    "pause:holder:acquired+500ms:8s"},
                   zk_address());
  EXPECT_EQ(o.status, 1) << o.out;
  EXPECT_FALSE(o.passed("mutual-exclusion")) << o.out;
  EXPECT_TRUE(o.passed("fencing")) << o.out;
  EXPECT_TRUE(o.passed("lost-update")) << o.out;
  // Which client was paused, and that its write was refused.
  int paused = -1;
  for (const auto& e : o.trace)
    if (e.value("ev", "") == "fault" && e.value("detail", "").rfind("pause for", 0) == 0)
      paused = std::stoi(e.value("src", "client -1").substr(7));
  ASSERT_GE(paused, 0) << o.out;
  EXPECT_GE(count(o, "resource_write", paused, "refused:"), 1) << o.out;
  EXPECT_GE(count(o, "session", paused, "expired"), 1) << o.out;
}

// A session expired from outside: the recipe tells its holder the lock is lost.
TEST_F(LiveRunner, RecipeSignalsLostOnSessionExpiry) {
  Outcome o = live({"--store", std::string("zk:") + zk_address(), "--algo", "recipe", "--clients",
                    "3", "--cycles", "2", "--hold", "1500ms", "--think", "10ms", "--fault",
                    "expire:holder:acquired+500ms"},
                   zk_address());
  int expired = -1;
  for (const auto& e : o.trace)
    if (e.value("ev", "") == "fault" && e.value("detail", "") == "expire_session")
      expired = std::stoi(e.value("src", "client -1").substr(7));
  ASSERT_GE(expired, 0) << o.out;
  EXPECT_EQ(count(o, "fault", expired, "expire_session: 1 of 1 session(s) ended"), 1) << o.out;
  EXPECT_GE(count(o, "lost_observed", expired), 1) << o.out;
  EXPECT_GE(count(o, "session", expired, "expired"), 1) << o.out;
  EXPECT_TRUE(o.passed("liveness-after-quiet")) << o.out;
}

// A scenario file: its workload runs, its faults with a live form are applied and the
// others are listed as skipped.
TEST_F(LiveRunner, ScenarioFileRunsItsLiveFaults) {
  const std::string path = ::testing::TempDir() + "lockstep-live-scenario.json";
  {
    std::ofstream f(path);
    f << R"({"algorithm": "recipe", "clients": 3, "session_timeout": "4s",
             "workload": {"cycles": 3, "hold": "20ms", "think": "1ms"},
             "resource": {"fenced": true},
             "faults": [{"kind": "duplicate", "client": 0, "at": "0s", "for": "1s",
                         "probability": 0.1},
                        {"kind": "expire_session", "client": 1, "at": "50ms"}]})";
  }
  Outcome o = live({path, "--store", std::string("zk:") + zk_address()}, zk_address());
  std::remove(path.c_str());
  EXPECT_TRUE(o.passed("fencing")) << o.out;
  EXPECT_TRUE(o.passed("lost-update")) << o.out;
  EXPECT_EQ(count(o, "fault", -2, "scenario fault duplicate at "), 1) << o.out;
  EXPECT_EQ(count(o, "fault", 1, "expire_session"), 2) << o.out;  // the act and its result
}

// `local:`: the same run against the in-process store, no server involved.
TEST_F(LiveRunner, LocalStoreRunsAndPausesExpire) {
  Outcome ok = live({"--store", "local:", "--algo", "recipe", "--clients", "4", "--cycles", "5",
                     "--resource", "fenced"},
                    "");
  EXPECT_EQ(ok.status, 0) << ok.out;
  EXPECT_EQ(count(ok, "acquired"), 20) << ok.out;

  // A paused client's loop stops pinging: the store expires its session and the lock
  // passes on while it sleeps.
  Outcome paused =
      live({"--store", "local:", "--algo", "zk-fast-pred", "--clients", "2", "--cycles", "1",
            "--hold", "1s", "--session-timeout", "500ms", "--fault", "pause:holder:200ms:2s"},
           "");
  EXPECT_EQ(paused.status, 1) << paused.out;
  EXPECT_FALSE(paused.passed("mutual-exclusion")) << paused.out;
}

// A run cut off by its duration ends every belief at the cut-off: a killed client believes
// nothing, and what happened while the clients were being killed is not part of the run.
// On local: a waiter used to be granted the lock of a client already killed, and about
// half such runs reported mutual exclusion violated.
// Sanitized, each process starts slowly (ASan maps its shadow and relocates a large
// binary: `lockstep --help` takes about 0.75 s on a loaded 2-core machine, and the
// clients start only after the coordinator, about 1.7 s into the run), so the runs get
// 4 s on zk: and a tenth of the runs (the race showed in about half of them).
TEST_F(LiveRunner, CutOffRunsGiveNoFalseViolation) {
  struct Store {
    std::string flag, connect, duration;
  };
  const int runs = kSanitized ? 20 : 200;
  std::vector<Store> stores = {{"local:", "", kSanitized ? "400ms" : "100ms"}};
  if (zk_address())
    stores.push_back(
        {std::string("zk:") + zk_address(), zk_address(), kSanitized ? "4s" : "400ms"});
  for (const auto& store : stores) {
    int cut_off = 0, grants = 0;
    for (int i = 0; i < runs; ++i) {
      Outcome o = live({"--store", store.flag, "--algo", "recipe", "--clients", "3", "--cycles",
                        "1000", "--hold", "5ms", "--duration", store.duration},
                       store.connect);
      ASSERT_TRUE(o.passed("mutual-exclusion")) << store.flag << " run " << i << "\n" << o.out;
      cut_off += o.out.find("(cut off: the duration ran out") != std::string::npos;
      grants += count(o, "acquired");
    }
    EXPECT_EQ(cut_off, runs) << store.flag;
    EXPECT_GT(grants, runs) << store.flag << ": the runs must get far enough to grant";
  }
}

// A 3-node ensemble of our own; its leader is killed a second in and restarted 3 s
// later. The recipe with the fenced resource loses no update.
TEST_F(LiveRunner, KilledLeaderLosesNoUpdateWithFencing) {
  const std::string script = zk_script();
  if (script.empty()) GTEST_SKIP() << "scripts/zk not found next to the build";
  OwnServers ensemble(script, {"--ensemble", "3"});
  ASSERT_TRUE(ensemble.started) << ensemble.out;
  const std::string& connect = ensemble.connect;
  const std::vector<std::string>& env = ensemble.env;

  Outcome o = live(
      {"--store", "zk:" + connect, "--algo", "recipe", "--clients", "4", "--cycles", "10", "--hold",
       "200ms", "--think", "10ms", "--resource", "fenced", "--fault", "kill-leader:1s:3s"},
      connect, env);
  EXPECT_TRUE(o.passed("lost-update")) << o.out;
  EXPECT_TRUE(o.passed("fencing")) << o.out;
  EXPECT_EQ(count(o, "fault", -2, "killed leader"), 1) << o.out;
  EXPECT_EQ(count(o, "fault", -2, "127.0.0.1"), 1) << o.out;  // "... serving again"
  EXPECT_GT(count(o, "resource_write"), 0) << o.out;

  // The ensemble is whole again: every node serves.
  auto [status, text] = run_program(script, {"status"}, env, 30s);
  std::string faults;
  for (const auto& e : o.trace)
    if (e.value("ev", "") == "fault") faults += e.value("detail", "") + "\n";
  EXPECT_EQ(status, 0) << text << faults;
}

// Redlock on independent stores, as deployed: scripts/zk starts three standalone servers
// (one connect string each), and 8 processes lock across them with a quorum of 2.
TEST_F(LiveRunner, RedlockOnThreeStandaloneServers) {
  const std::string script = zk_script();
  if (script.empty()) GTEST_SKIP() << "scripts/zk not found next to the build";
  OwnServers servers(script, {"--standalone", "3"});
  ASSERT_TRUE(servers.started) << servers.out;
  std::vector<std::string> connects;
  std::istringstream words(servers.connect);
  for (std::string c; words >> c;) connects.push_back(c);
  ASSERT_EQ(connects.size(), 3u) << servers.connect;
  std::vector<std::string> args;
  for (const auto& c : connects) args.insert(args.end(), {"--store", "zk:" + c});
  args.insert(args.end(), {"--algo", "redlock", "--option", "stores=3", "--clients", "8",
                           "--cycles", "3", "--resource", "unfenced", "--duration", "60s"});

  Outcome o = live(args, connects[0], servers.env);
  EXPECT_EQ(o.status, 0) << o.out;
  EXPECT_TRUE(o.passed("mutual-exclusion")) << o.out;
  EXPECT_TRUE(o.passed("lost-update")) << o.out;
  EXPECT_TRUE(o.passed("liveness")) << o.out;
  EXPECT_EQ(count(o, "acquired"), 24) << o.out;
}

// kill-leader kills only a server scripts/zk started here and recorded: a server of
// another state dir (as good as one started by hand) and a remote host are refused before
// any client starts, with one line saying why, and the server is left running.
TEST_F(LiveRunner, KillLeaderRefusesAServerItDidNotStart) {
  const std::string script = zk_script();
  if (script.empty()) GTEST_SKIP() << "scripts/zk not found next to the build";
  OwnServers server(script, {});
  ASSERT_TRUE(server.started) << server.out;
  char other[] = "/tmp/lockstep-other-state.XXXXXX";
  ASSERT_NE(::mkdtemp(other), nullptr);
  const std::vector<std::string> foreign_env = {"LOCKSTEP_ZK_STATE=" + std::string(other)};
  // Through sh, for the error line on stderr.
  const std::string with_stderr = "exec \"$0\" \"$@\" 2>&1";
  auto [status, out] = run_program("/bin/sh",
                                   {"-c", with_stderr, lockstep_binary(), "live", "--store",
                                    "zk:" + server.connect, "--fault", "kill-leader:1s"},
                                   foreign_env, 60s);
  ::rmdir(other);
  EXPECT_EQ(status, 2) << out;
  EXPECT_NE(out.find("was not started by scripts/zk"), std::string::npos) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  auto [serving, text] = run_program(script, {"status"}, server.env, 30s);
  EXPECT_EQ(serving, 0) << "the foreign server must still run: " << text;

  std::tie(status, out) = run_program("/bin/sh",
                                      {"-c", with_stderr, lockstep_binary(), "live", "--store",
                                       "zk:192.0.2.1:2181", "--fault", "kill-leader:1s"},
                                      server.env, 60s);
  EXPECT_EQ(status, 2) << out;
  EXPECT_NE(out.find("is not on this machine"), std::string::npos) << out;
}

}  // namespace
}  // namespace lockstep::real
