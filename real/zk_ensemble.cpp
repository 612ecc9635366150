#include "real/zk_ensemble.h"

#include <dirent.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

extern char** environ;

namespace lockstep::real {

namespace {

using Clock = std::chrono::steady_clock;

std::pair<std::string, std::string> split_host_port(const std::string& hp) {
  auto colon = hp.rfind(':');
  if (colon == std::string::npos) return {hp, "2181"};
  return {hp.substr(0, colon), hp.substr(colon + 1)};
}

int port_of(const std::string& hp) { return std::atoi(split_host_port(hp).second.c_str()); }

std::string read_link(const std::string& path) {
  char buf[4096];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
  if (n <= 0) return "";
  return std::string(buf, static_cast<size_t>(n));
}

bool is_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// --- scripts/zk ------------------------------------------------------------------------

std::string zk_script() {
  if (const char* s = std::getenv("LOCKSTEP_ZK_SCRIPT"); s && *s) return s;
  std::string dir = read_link("/proc/self/exe");
  auto slash = dir.rfind('/');
  if (slash == std::string::npos) return "";
  dir.resize(slash);
  // The source tree's (a build dir's binary), then an installed one beside bin/.
  for (const char* up :
       {"/scripts/zk", "/../scripts/zk", "/../../scripts/zk", "/../share/lockstep/zk"})
    if (is_file(dir + up)) return dir + up;
  for (const char* installed : {"/usr/share/lockstep/zk", "/usr/local/share/lockstep/zk"})
    if (is_file(installed)) return installed;
  return "";
}

std::string zk_state_dir() {
  if (const char* s = std::getenv("LOCKSTEP_ZK_STATE"); s && *s) return s;
  std::string user;
  if (const char* u = std::getenv("USER"); u && *u) user = u;
  if (user.empty())
    if (passwd* pw = getpwuid(getuid())) user = pw->pw_name;
  return "/tmp/lockstep-zk-" + user;
}

// A state dir we may trust: a real directory of ours that no one else may write (the
// same rules scripts/zk applies before it reads one).
bool state_dir_is_ours(const std::string& dir) {
  struct stat st {};
  return ::lstat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == ::getuid() &&
         (st.st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

bool is_loopback(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1" || host == "[::1]";
}

// The scripts/zk node (1-based) whose client port is `port`; 0 if none.
int script_node(int port) {
  std::ifstream in(zk_state_dir() + "/state");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("PORT_", 0) != 0) continue;
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    if (std::atoi(line.c_str() + eq + 1) == port) return std::atoi(line.c_str() + 5);
  }
  return 0;
}

// Runs a program to completion; its exit status (-1 if it could not start).
int run_program(const std::string& path, const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, path.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return -1;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

std::string zk_four_letter(const std::string& host_port, const std::string& word,
                           Duration timeout) {
  auto [host, port] = split_host_port(host_port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0 || !res) return "";
  const auto deadline = Clock::now() + timeout;
  auto left_ms = [&] {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return static_cast<int>(std::max<int64_t>(0, ms.count()));
  };
  std::string out;
  for (addrinfo* a = res; a && out.empty(); a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    int rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      int err = 0;
      socklen_t len = sizeof err;
      if (::poll(&p, 1, left_ms()) == 1 &&
          ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0)
        rc = 0;
    }
    if (rc == 0 &&
        ::send(fd, word.data(), word.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(word.size())) {
      char buf[4096];
      for (;;) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, left_ms()) != 1) break;
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        out.append(buf, static_cast<size_t>(n));
      }
    }
    ::close(fd);
  }
  freeaddrinfo(res);
  return out;
}

std::string zk_mode(const std::string& host_port) {
  std::istringstream in(zk_four_letter(host_port, "srvr"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Mode:", 0) != 0) continue;
    std::string mode = line.substr(5);
    mode.erase(0, mode.find_first_not_of(' '));
    while (!mode.empty() && (mode.back() == '\r' || mode.back() == ' ')) mode.pop_back();
    return mode;
  }
  return "";
}

std::vector<std::string> zk_hosts(const std::string& connect_string) {
  std::string hosts = connect_string.substr(0, connect_string.find('/'));
  std::vector<std::string> out;
  std::istringstream in(hosts);
  std::string h;
  while (std::getline(in, h, ','))
    if (!h.empty()) out.push_back(h);
  return out;
}

ZkServerControl::ZkServerControl(std::string connect_string)
    : connect_string_(std::move(connect_string)) {}

ZkNodeOutcome ZkServerControl::kill_leader() {
  ZkNodeOutcome out;
  for (const auto& node : zk_hosts(connect_string_)) {
    std::string mode = zk_mode(node);
    if (mode == "leader" || mode == "standalone") {
      out.node = node;
      break;
    }
  }
  if (out.node.empty()) {
    out.text = "no node of " + connect_string_ + " says it leads (an election under way?)";
    return out;
  }
  if (auto why = why_not_killable(out.node)) {
    out.text = *why;
    return out;
  }
  const int index = script_node(port_of(out.node));
  const std::string script = zk_script();
  if (int rc = run_program(script, {script, "kill", std::to_string(index)}); rc != 0) {
    out.text = "scripts/zk kill " + std::to_string(index) + " failed (" + std::to_string(rc) + ")";
    return out;
  }
  killed_.push_back(Killed{.node = out.node, .script_index = index});
  out.text = "killed leader " + out.node + " (scripts/zk node " + std::to_string(index) + ")";
  out.ok = true;
  return out;
}

ZkNodeOutcome ZkServerControl::restart(const std::string& node) {
  ZkNodeOutcome out;
  out.node = node;
  auto it = killed_.begin();
  while (it != killed_.end() && it->node != node) ++it;
  if (it == killed_.end()) {
    out.text = node + " was not killed here";
    return out;
  }
  const Killed killed = *it;
  killed_.erase(it);
  const std::string script = zk_script();
  int rc = script.empty()
               ? -1
               : run_program(script, {script, "restart", std::to_string(killed.script_index)});
  if (rc != 0) {
    out.text = "scripts/zk restart " + std::to_string(killed.script_index) + " failed";
    return out;
  }
  out.ok = true;
  out.text = node + " serving again (scripts/zk node " + std::to_string(killed.script_index) + ")";
  return out;
}

std::optional<std::string> why_not_killable(const std::string& node) {
  const auto [host, port] = split_host_port(node);
  if (!is_loopback(host))
    return "kill-leader: " + node +
           " is not on this machine; lockstep kills only servers scripts/zk started here";
  const std::string state = zk_state_dir();
  if (!state_dir_is_ours(state))
    return "kill-leader: state dir " + state +
           " is missing, not ours or writable by others (set LOCKSTEP_ZK_STATE to the dir "
           "scripts/zk start used)";
  if (script_node(port_of(node)) == 0)
    return "kill-leader: " + node + " was not started by scripts/zk in " + state +
           "; lockstep kills only servers whose PID it recorded";
  if (zk_script().empty())
    return std::string("kill-leader: scripts/zk not found (set LOCKSTEP_ZK_SCRIPT)");
  return std::nullopt;
}

std::optional<std::string> why_not_killable_ensemble(const std::string& connect_string) {
  for (const auto& node : zk_hosts(connect_string))
    if (auto why = why_not_killable(node)) return why;
  return std::nullopt;
}

}  // namespace lockstep::real
