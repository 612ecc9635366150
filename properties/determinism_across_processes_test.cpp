// Same scenario and seed, the same trace, byte for byte, across processes: every
// committed scenario (the list is docs/golden-traces.txt) is run here, in this process,
// and by the lockstep binary in a child process whose memory layout differs (another
// environment size, malloc filling fresh memory with a pattern). A trace that depended
// on an address, on uninitialised memory or on a hash of a pointer would differ.
// The golden hashes themselves are checked by scripts/trace-hashes --check (a ctest).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "sim/run.h"
#include "sim/scenario.h"

extern char** environ;

namespace lockstep::sim {
namespace {

std::string self_dir() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  std::string path(buf, n > 0 ? static_cast<size_t>(n) : 0);
  return path.substr(0, path.rfind('/'));
}

// The committed scenarios, as docs/golden-traces.txt lists them (third field).
std::vector<std::string> committed_scenarios() {
  std::ifstream in(std::string(LOCKSTEP_SOURCE_DIR) + "/docs/golden-traces.txt");
  std::vector<std::string> out;
  std::string hash, status, file;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    if (fields >> hash >> status >> file) out.push_back(file);
  }
  return out;
}

// Runs `lockstep run FILE --trace TRACE` in a child with a perturbed environment; returns
// its exit status.
int run_in_child(const std::string& file, const std::string& trace) {
  const std::string binary = self_dir() + "/lockstep";
  std::vector<std::string> args = {binary, "run", file, "--trace", trace};
  std::vector<std::string> env = {"MALLOC_PERTURB_=165",
                                  "LOCKSTEP_LAYOUT_PADDING=" + std::string(4000, 'x')};
  for (char** e = environ; *e; ++e) env.emplace_back(*e);
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return -1;
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

TEST(DeterminismAcrossProcesses, EveryCommittedScenarioTracesAlikeHereAndInAChild) {
  const std::vector<std::string> files = committed_scenarios();
  ASSERT_GE(files.size(), 30u) << "docs/golden-traces.txt lists the committed scenarios";
  const std::string trace =
      ::testing::TempDir() + "lockstep-xproc-" + std::to_string(::getpid()) + ".jsonl";
  for (const std::string& rel : files) {
    const std::string file = std::string(LOCKSTEP_SOURCE_DIR) + "/" + rel;
    RunResult here = run_scenario(load_scenario(file));
    const int status = run_in_child(file, trace);
    ASSERT_TRUE(status == 0 || status == 1) << rel << ": exit " << status;
    EXPECT_EQ(status == 0, here.ok()) << rel;
    const std::vector<std::string> there = read_lines(trace);
    ASSERT_FALSE(there.empty()) << rel;
    ASSERT_EQ(here.trace.size(), there.size()) << rel;
    for (size_t i = 0; i < there.size(); ++i)
      ASSERT_EQ(here.trace[i], there[i]) << rel << " line " << i + 1;
  }
  std::remove(trace.c_str());
}

}  // namespace
}  // namespace lockstep::sim
