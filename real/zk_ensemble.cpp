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

std::vector<std::string> read_nul_list(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::string> out;
  std::string item;
  while (std::getline(in, item, '\0')) out.push_back(item);
  return out;
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
  for (const char* up : {"/scripts/zk", "/../scripts/zk", "/../../scripts/zk"})
    if (is_file(dir + up)) return dir + up;
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

// --- finding a server by its port ----------------------------------------------------------

// Inodes of the sockets listening on `port` (IPv4 and IPv6).
std::vector<std::string> listening_inodes(int port) {
  std::vector<std::string> out;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream f(line);
      std::string sl, local, remote, st, queues, tr, retr, uid, timeout, inode;
      f >> sl >> local >> remote >> st >> queues >> tr >> retr >> uid >> timeout >> inode;
      if (st != "0A") continue;  // LISTEN
      auto colon = local.rfind(':');
      if (colon == std::string::npos) continue;
      if (std::strtol(local.c_str() + colon + 1, nullptr, 16) == port) out.push_back(inode);
    }
  }
  return out;
}

pid_t pid_listening_on(int port) {
  auto inodes = listening_inodes(port);
  if (inodes.empty()) return -1;
  DIR* proc = ::opendir("/proc");
  if (!proc) return -1;
  pid_t found = -1;
  while (dirent* d = ::readdir(proc)) {
    if (found > 0) break;
    char* end = nullptr;
    long pid = std::strtol(d->d_name, &end, 10);
    if (*end || pid <= 0) continue;
    std::string fds = std::string("/proc/") + d->d_name + "/fd";
    DIR* fd_dir = ::opendir(fds.c_str());
    if (!fd_dir) continue;
    while (dirent* f = ::readdir(fd_dir)) {
      std::string target = read_link(fds + "/" + f->d_name);
      for (const auto& inode : inodes)
        if (target == "socket:[" + inode + "]") found = static_cast<pid_t>(pid);
      if (found > 0) break;
    }
    ::closedir(fd_dir);
  }
  ::closedir(proc);
  return found;
}

bool process_gone(pid_t pid) {
  if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto paren = all.rfind(')');
  return paren == std::string::npos || (paren + 2 < all.size() && all[paren + 2] == 'Z');
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
  Saved saved;
  saved.node = out.node;
  const int port = port_of(out.node);
  if (int index = script_node(port); index > 0) {
    const std::string script = zk_script();
    if (script.empty()) {
      out.text = "scripts/zk not found (set LOCKSTEP_ZK_SCRIPT)";
      return out;
    }
    if (int rc = run_program(script, {script, "kill", std::to_string(index)}); rc != 0) {
      out.text =
          "scripts/zk kill " + std::to_string(index) + " failed (" + std::to_string(rc) + ")";
      return out;
    }
    saved.script_index = index;
    out.text = "killed leader " + out.node + " (scripts/zk node " + std::to_string(index) + ")";
  } else {
    pid_t pid = pid_listening_on(port);
    if (pid <= 0) {
      out.text = "no process of ours listens on port " + std::to_string(port);
      return out;
    }
    const std::string proc = "/proc/" + std::to_string(pid);
    saved.argv = read_nul_list(proc + "/cmdline");
    saved.env = read_nul_list(proc + "/environ");
    saved.exe = read_link(proc + "/exe");
    saved.cwd = read_link(proc + "/cwd");
    if (saved.argv.empty() || saved.exe.empty()) {
      out.text = "cannot read the command line of pid " + std::to_string(pid);
      return out;
    }
    if (::kill(pid, SIGKILL) != 0) {
      out.text = "kill " + std::to_string(pid) + ": " + std::strerror(errno);
      return out;
    }
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (!process_gone(pid) && Clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    out.text = "killed leader " + out.node + " (pid " + std::to_string(pid) + ")";
  }
  killed_.push_back(std::move(saved));
  out.ok = true;
  return out;
}

ZkNodeOutcome ZkServerControl::restart(const std::string& node, Duration timeout) {
  ZkNodeOutcome out;
  out.node = node;
  auto it = killed_.begin();
  while (it != killed_.end() && it->node != node) ++it;
  if (it == killed_.end()) {
    out.text = node + " was not killed here";
    return out;
  }
  Saved saved = *it;
  killed_.erase(it);
  if (saved.script_index > 0) {
    const std::string script = zk_script();
    int rc = script.empty()
                 ? -1
                 : run_program(script, {script, "restart", std::to_string(saved.script_index)});
    if (rc != 0) {
      out.text = "scripts/zk restart " + std::to_string(saved.script_index) + " failed";
      return out;
    }
    out.ok = true;
    out.text = node + " serving again (scripts/zk node " + std::to_string(saved.script_index) + ")";
    return out;
  }
  std::vector<char*> argv, envp;
  for (auto& a : saved.argv) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : saved.env) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  if (!saved.cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, saved.cwd.c_str());
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, saved.exe.c_str(), &fa, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    out.text = "cannot start " + saved.exe + ": " + std::strerror(rc);
    return out;
  }
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (!zk_mode(node).empty()) {
      out.ok = true;
      out.text = node + " serving again (pid " + std::to_string(pid) + ")";
      return out;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  out.text = node + " restarted (pid " + std::to_string(pid) + ") but not serving";
  return out;
}

}  // namespace lockstep::real
