// What the live tests share: the lockstep binary beside the test binary run as a user
// runs it (`lockstep live ...` as a subprocess), its verdicts and trace read back, and the
// checks after every run that its nodes are gone from the server and that none of its
// client processes is left. The tests are skipped without LOCKSTEP_ZK.
#pragma once

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
#include <tuple>
#include <vector>

#include "core/store.h"
#include "real/event_loop.h"
#include "real/live_env.h"
#include "real/zk_store.h"

extern char** environ;

namespace lockstep::real {

inline const char* zk_address() { return std::getenv("LOCKSTEP_ZK"); }

// Built under ASan or TSan (scripts/test --sanitize): every process of a live run, the
// lockstep binary and its clients included, starts and runs several times slower, so
// the few tests that race a wall-clock deadline give it more time, or do fewer rounds.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
inline constexpr bool kSanitized = true;
#else
inline constexpr bool kSanitized = false;
#endif

inline std::string self_dir() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  std::string path(buf, n > 0 ? static_cast<size_t>(n) : 0);
  return path.substr(0, path.rfind('/'));
}

// The lockstep binary is built beside the tests.
inline std::string lockstep_binary() { return self_dir() + "/lockstep"; }

// real/clients (the black-box adapters) beside the build; "" if not found.
inline std::string clients_dir() {
  for (const char* up : {"/../real/clients", "/../../real/clients"}) {
    std::string p = self_dir() + up;
    if (::access((p + "/kazoo-lock").c_str(), X_OK) == 0) return p;
  }
  return "";
}

inline std::string zk_script() {
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
  std::vector<nlohmann::json> trace;
  bool has(const std::string& checker) const { return verdicts.count(checker) != 0; }
  bool passed(const std::string& checker) const {
    auto it = verdicts.find(checker);
    return it != verdicts.end() && it->second;
  }
};

// A verdict line of `lockstep run` or `lockstep live` ("checker   PASS  summary", or
// FAIL) into `verdicts`; any other line is left alone.
inline void read_verdict(const std::string& line, std::map<std::string, bool>& verdicts) {
  std::istringstream words(line);
  std::string name, word;
  words >> name >> word;
  if (word == "PASS" || word == "FAIL") verdicts[name] = word == "PASS";
}

// Runs a program with `args`, extra environment `env` (KEY=VALUE), and returns its exit
// status and stdout; killed after `limit`.
inline std::pair<int, std::string> run_program(const std::string& path,
                                               std::vector<std::string> args,
                                               const std::vector<std::string>& env,
                                               Duration limit) {
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
inline std::vector<int> processes_mentioning(const std::string& needle) {
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

inline bool have_kazoo() {
  return run_program("/usr/bin/python3", {"-c", "import kazoo"}, {}, std::chrono::seconds(30))
             .first == 0;
}

// Does `path` exist on the server at `connect`?
inline Error exists_on(const std::string& connect, const std::string& path) {
  EventLoop loop;
  LiveEnv env(loop, 0);
  ZkStore store(connect);
  auto probe = [](Env& env, ZkStore& store, std::string path) -> Task<Error> {
    ConnectReply c = co_await store.connect(env, std::chrono::seconds(10));
    if (c.err != Error::Ok) co_return c.err;
    ExistsReply r = co_await c.session->exists(path);
    co_await c.session->close();
    co_return r.err;
  };
  return run_task(env, probe(env, store, path), std::chrono::seconds(30));
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
               const std::vector<std::string>& env = {},
               Duration limit = std::chrono::seconds(120)) {
    args.insert(args.begin(), "live");
    args.push_back("--trace");
    args.push_back(trace_);
    Outcome o;
    std::tie(o.status, o.out) = run_program(lockstep_binary(), args, env, limit);
    std::istringstream lines(o.out);
    std::string line;
    while (std::getline(lines, line)) {
      read_verdict(line, o.verdicts);
      if (line.rfind("cleanup ", 0) == 0) {
        std::istringstream f(line);
        std::string word;
        f >> word >> o.root;
      }
    }
    std::ifstream in(trace_);
    while (std::getline(in, line))
      if (!line.empty()) o.trace.push_back(nlohmann::json::parse(line));
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
    std::tie(status, out) = run_program(script, args, env, std::chrono::seconds(90));
    started = status == 0;
    connect = out;
    while (!connect.empty() && connect.back() == '\n') connect.pop_back();
    connect = connect.substr(connect.rfind('\n') + 1);
  }
  ~OwnServers() {
    if (state.empty()) return;
    run_program(script, {"stop"}, env, std::chrono::seconds(60));
    ::rmdir(state.c_str());
  }
};

}  // namespace lockstep::real
