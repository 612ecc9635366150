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
#include "real/event_loop.h"
#include "real/live_client.h"
#include "real/live_env.h"
#include "real/zk_store.h"

extern char** environ;

namespace lockstep::real {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

const char* zk_address() { return std::getenv("LOCKSTEP_ZK"); }

std::string self_dir() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  std::string path(buf, n > 0 ? static_cast<size_t>(n) : 0);
  return path.substr(0, path.rfind('/'));
}

// The lockstep binary is built beside the tests.
std::string lockstep_binary() { return self_dir() + "/lockstep"; }

std::string zk_script() {
  for (const char* up : {"/../scripts/zk", "/../../scripts/zk"}) {
    struct stat st {};
    std::string p = self_dir() + up;
    if (::stat(p.c_str(), &st) == 0) return p;
  }
  return "";
}

struct Outcome {
  int status = -1;                       // exit status; -1 if killed
  std::string out;                       // stdout
  std::map<std::string, bool> verdicts;  // checker -> passed
  std::string root;                      // the run's own path, from the cleanup line
  std::vector<Json> trace;
  bool has(const std::string& checker) const { return verdicts.count(checker) != 0; }
  bool passed(const std::string& checker) const {
    auto it = verdicts.find(checker);
    return it != verdicts.end() && it->second;
  }
};

// Runs a program with `args`, extra environment `env` (KEY=VALUE), and returns its exit
// status and stdout; killed after `limit`.
std::pair<int, std::string> run_program(const std::string& path, std::vector<std::string> args,
                                        const std::vector<std::string>& env, Duration limit) {
  args.insert(args.begin(), path);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> envs;
  // An override replaces the inherited variable: getenv() would find the first of two.
  auto overridden = [&env](const std::string& var) {
    const std::string name = var.substr(0, var.find('=') + 1);
    for (const auto& e : env)
      if (e.rfind(name, 0) == 0) return true;
    return false;
  };
  for (char** e = environ; *e; ++e)
    if (!overridden(*e)) envs.emplace_back(*e);
  for (const auto& e : env) envs.push_back(e);
  std::vector<char*> envp;
  for (auto& e : envs) envp.push_back(e.data());
  envp.push_back(nullptr);

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return {-1, ""};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, path.c_str(), &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    return {-1, ""};
  }
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  char buf[65536];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) {
      ::kill(pid, SIGKILL);
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 1000))) <= 0) continue;
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// Processes whose command line mentions `needle` (other than this one).
std::vector<int> processes_mentioning(const std::string& needle) {
  std::vector<int> out;
  DIR* proc = ::opendir("/proc");
  if (!proc) return out;
  while (dirent* d = ::readdir(proc)) {
    char* end = nullptr;
    long pid = std::strtol(d->d_name, &end, 10);
    if (*end || pid <= 0 || pid == ::getpid()) continue;
    std::ifstream in(std::string("/proc/") + d->d_name + "/cmdline", std::ios::binary);
    std::string cmd((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmd.find(needle) != std::string::npos) out.push_back(static_cast<int>(pid));
  }
  ::closedir(proc);
  return out;
}

// Does `path` exist on the server at `connect`?
Error exists_on(const std::string& connect, const std::string& path) {
  EventLoop loop;
  LiveEnv env(loop, 0);
  ZkStore store(connect);
  auto probe = [](Env& env, ZkStore& store, std::string path) -> Task<Error> {
    ConnectReply c = co_await store.connect(env, 10s);
    if (c.err != Error::Ok) co_return c.err;
    ExistsReply r = co_await c.session->exists(path);
    co_await c.session->close();
    co_return r.err;
  };
  return run_task(env, probe(env, store, path), 30s);
}

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
  EXPECT_FALSE(decode_message("E 1 2 99 - - - - x", 0));        // no such event kind
  EXPECT_FALSE(decode_message("E 1 2 8 - - maybe - x", 0));     // no such write outcome
  EXPECT_FALSE(decode_message("E 1 2 8 - - accepted z x", 0));  // a zxid that is no number
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

class LiveRunner : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("LOCKSTEP_ZK_LOG", "off", 0);
    if (!zk_address())
      GTEST_SKIP() << "LOCKSTEP_ZK is not set; run with LOCKSTEP_ZK=$(scripts/zk start)";
    ASSERT_EQ(::access(lockstep_binary().c_str(), X_OK), 0) << lockstep_binary();
    trace_ = ::testing::TempDir() + "lockstep-live-trace-" + std::to_string(::getpid()) + ".jsonl";
  }
  void TearDown() override { std::remove(trace_.c_str()); }

  // Runs `lockstep live ARGS --trace FILE` and reads back what it printed and traced.
  // Checks that the run cleaned up after itself on `connect` and left no client behind.
  Outcome live(std::vector<std::string> args, const std::string& connect,
               const std::vector<std::string>& env = {}, Duration limit = 120s) {
    args.insert(args.begin(), "live");
    args.push_back("--trace");
    args.push_back(trace_);
    Outcome o;
    std::tie(o.status, o.out) = run_program(lockstep_binary(), args, env, limit);
    std::istringstream lines(o.out);
    std::string line;
    while (std::getline(lines, line)) {
      // "checker   PASS  summary" (or FAIL)
      std::istringstream words(line);
      std::string name, word;
      words >> name >> word;
      if (word == "PASS" || word == "FAIL") o.verdicts[name] = word == "PASS";
      if (line.rfind("cleanup ", 0) == 0) {
        std::istringstream f(line);
        std::string word;
        f >> word >> o.root;
      }
    }
    std::ifstream in(trace_);
    while (std::getline(in, line))
      if (!line.empty()) o.trace.push_back(Json::parse(line));
    EXPECT_FALSE(o.root.empty()) << o.out;
    if (!o.root.empty()) {
      if (!connect.empty()) {
        EXPECT_EQ(exists_on(connect, o.root), Error::NoNode) << o.root;
      }
      EXPECT_NE(o.out.find(o.root + " removed"), std::string::npos) << o.out;
      EXPECT_TRUE(processes_mentioning(o.root).empty()) << "client processes left behind";
    }
    return o;
  }

  static int count(const Outcome& o, const std::string& ev, int client = -2,
                   const std::string& detail_prefix = "") {
    int n = 0;
    for (const auto& e : o.trace) {
      if (e.value("ev", "") != ev) continue;
      if (client != -2 && e.value("src", "") != "client " + std::to_string(client)) continue;
      if (!detail_prefix.empty() && e.value("detail", "").rfind(detail_prefix, 0) != 0) continue;
      ++n;
    }
    return n;
  }

  std::string trace_;
};

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

// The holder is stopped (SIGSTOP) for 8 s, twice its session timeout: its session
// expires, the other client takes the lock while the stopped one still believes it holds
// it, and the checker reports the overlap. The resource (on a session of its own that
// outlives the pause) refuses the stale holder's write when it wakes: fencing and
// lost-update hold while mutual exclusion fails.
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
                    "pause:holder:1s:8s"},
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
  Outcome o =
      live({"--store", std::string("zk:") + zk_address(), "--algo", "recipe", "--clients", "3",
            "--cycles", "2", "--hold", "1500ms", "--think", "10ms", "--fault", "expire:holder:1s"},
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
             "faults": [{"kind": "partition", "client": 0, "at": "0s", "for": "1s"},
                        {"kind": "expire_session", "client": 1, "at": "50ms"}]})";
  }
  Outcome o = live({path, "--store", std::string("zk:") + zk_address()}, zk_address());
  std::remove(path.c_str());
  EXPECT_TRUE(o.passed("fencing")) << o.out;
  EXPECT_TRUE(o.passed("lost-update")) << o.out;
  EXPECT_EQ(count(o, "fault", -2, "scenario fault partition at "), 1) << o.out;
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
TEST_F(LiveRunner, CutOffRunsGiveNoFalseViolation) {
  struct Store {
    std::string flag, connect, duration;
  };
  std::vector<Store> stores = {{"local:", "", "100ms"}};
  if (zk_address()) stores.push_back({std::string("zk:") + zk_address(), zk_address(), "400ms"});
  for (const auto& store : stores) {
    int cut_off = 0, grants = 0;
    for (int i = 0; i < 200; ++i) {
      Outcome o = live({"--store", store.flag, "--algo", "recipe", "--clients", "3", "--cycles",
                        "1000", "--hold", "5ms", "--duration", store.duration},
                       store.connect);
      ASSERT_TRUE(o.passed("mutual-exclusion")) << store.flag << " run " << i << "\n" << o.out;
      cut_off += o.out.find("(cut off: the duration ran out") != std::string::npos;
      grants += count(o, "acquired");
    }
    EXPECT_EQ(cut_off, 200) << store.flag;
    EXPECT_GT(grants, 200) << store.flag << ": the runs must get far enough to grant";
  }
}

// Servers of a test's own, started by scripts/zk in a state dir of their own (`start
// ARGS`) and stopped, with their data, when the test ends. `connect` is the last line
// `start` printed.
struct OwnServers {
  std::string script, state, connect, out;
  std::vector<std::string> env;
  bool started = false;
  OwnServers(const std::string& zk, const std::vector<std::string>& start_args) : script(zk) {
    char tmpl[] = "/tmp/lockstep-live-servers.XXXXXX";
    if (!::mkdtemp(tmpl)) return;
    state = tmpl;
    env = {"LOCKSTEP_ZK_STATE=" + state};
    std::vector<std::string> args = {"start"};
    args.insert(args.end(), start_args.begin(), start_args.end());
    int status;
    std::tie(status, out) = run_program(script, args, env, 90s);
    started = status == 0;
    connect = out;
    while (!connect.empty() && connect.back() == '\n') connect.pop_back();
    connect = connect.substr(connect.rfind('\n') + 1);
  }
  ~OwnServers() {
    if (state.empty()) return;
    run_program(script, {"stop"}, env, 60s);
    ::rmdir(state.c_str());
  }
};

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
