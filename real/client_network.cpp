#include "real/client_network.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace lockstep::real {

namespace {

constexpr int kMaxClients = 64;  // four addresses each in one /24

// `ip` and `iptables` live in /usr/sbin, which a PATH need not have.
std::string find_tool(const std::string& name) {
  std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
  path += ":/usr/sbin:/sbin:/usr/bin:/bin";
  std::istringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    const std::string p = dir + "/" + name;
    if (::access(p.c_str(), X_OK) == 0) return p;
  }
  return "";
}

struct Ran {
  int status = -1;
  std::string output;  // stdout and stderr, the last line kept for messages
  bool ok() const { return status == 0; }
  std::string why() const {
    std::string s = output;
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    const size_t nl = s.rfind('\n');
    if (nl != std::string::npos) s = s.substr(nl + 1);
    return s.empty() ? "exit status " + std::to_string(status) : s;
  }
};

// Runs `ip ARGS...` (or another tool) to its end and collects what it printed.
Ran run_tool(const std::string& tool, const std::vector<std::string>& args) {
  Ran r;
  const std::string path = find_tool(tool);
  if (path.empty()) {
    r.output = tool + ": not found";
    return r;
  }
  std::vector<std::string> words = {path};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    r.output = std::string("pipe: ") + std::strerror(errno);
    return r;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, path.c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    r.output = tool + ": " + std::strerror(rc);
    return r;
  }
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n > 0) {
      r.output.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

Ran ip(const std::vector<std::string>& args) { return run_tool("ip", args); }

std::string dotted(uint32_t a) {
  return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 255) + "." +
         std::to_string((a >> 8) & 255) + "." + std::to_string(a & 255);
}

sockaddr_in socket_address(uint32_t address, int port) {
  sockaddr_in s{};
  s.sin_family = AF_INET;
  s.sin_addr.s_addr = htonl(address);
  s.sin_port = htons(static_cast<uint16_t>(port));
  return s;
}

// "host:port" as IPv4 in host order; nullopt if it resolves to none.
std::optional<uint32_t> resolve(const std::string& host) {
  in_addr a{};
  if (::inet_pton(AF_INET, host.c_str(), &a) == 1) return ntohl(a.s_addr);
  addrinfo hints{};
  hints.ai_family = AF_INET;
  addrinfo* res = nullptr;
  if (::getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0 || !res) return std::nullopt;
  const uint32_t out = ntohl(reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_addr.s_addr);
  ::freeaddrinfo(res);
  return out;
}

struct HostPort {
  std::string host;
  int port = 0;
};

// "h1:p1,h2:p2/chroot" -> the servers and "/chroot".
std::pair<std::vector<HostPort>, std::string> split_connect(const std::string& connect) {
  const size_t slash = connect.find('/');
  const std::string hosts = connect.substr(0, slash);
  std::vector<HostPort> out;
  std::istringstream in(hosts);
  std::string item;
  while (std::getline(in, item, ',')) {
    const size_t colon = item.rfind(':');
    if (colon == std::string::npos) {
      out.push_back({item, 2181});
      continue;
    }
    out.push_back({item.substr(0, colon), std::atoi(item.c_str() + colon + 1)});
  }
  return {out, slash == std::string::npos ? "" : connect.substr(slash)};
}

std::string namespace_name(pid_t pid, int client) {
  return "lockstep-" + std::to_string(pid) + "-" + std::to_string(client);
}

std::string host_veth(pid_t pid, int client) {
  return "ls" + std::to_string(pid) + "h" + std::to_string(client);
}

// Namespaces of runs whose process is gone: what a run killed outright left behind.
void remove_leftovers() {
  Ran list = ip({"netns", "list"});
  std::istringstream lines(list.output);
  std::string line;
  while (std::getline(lines, line)) {
    const std::string name = line.substr(0, line.find(' '));
    if (name.rfind("lockstep-", 0) != 0) continue;
    const std::string rest = name.substr(9);
    const size_t dash = rest.find('-');
    if (dash == std::string::npos ||
        rest.substr(0, dash).find_first_not_of("0123456789") != std::string::npos)
      continue;
    const pid_t pid = static_cast<pid_t>(std::atol(rest.substr(0, dash).c_str()));
    if (pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH) ip({"netns", "delete", name});
  }
}

}  // namespace

std::string ClientNetworks::why_not() {
  if (::geteuid() != 0)
    return "network faults need root (network namespaces, veth pairs and iptables): run "
           "lockstep live as root";
  if (find_tool("ip").empty()) return "network faults need ip (iproute2; scripts/deps)";
  if (find_tool("iptables").empty()) return "network faults need iptables (scripts/deps)";
  const std::string probe = "lockstep-probe-" + std::to_string(::getpid());
  Ran made = ip({"netns", "add", probe});
  if (!made.ok()) return "network faults need network namespaces: ip netns add: " + made.why();
  Ran rule = ip({"netns", "exec", probe, "iptables", "-w", "-A", "OUTPUT", "-m", "statistic",
                 "--mode", "random", "--probability", "0.5", "-j", "DROP"});
  ip({"netns", "delete", probe});
  if (!rule.ok())
    return "network faults need iptables with the statistic match in a namespace: " + rule.why();
  return "";
}

ClientNetworks::ClientNetworks(const std::vector<std::string>& connect) {
  for (const auto& cs : connect) {
    std::vector<int> mine;
    for (const auto& hp : split_connect(cs).first) {
      auto address = resolve(hp.host);
      if (!address || (*address >> 24) != 127)
        throw std::runtime_error("network faults need the servers on this machine's loopback: " +
                                 hp.host + " is not on 127.0.0.0/8");
      int index = server_index(hp.host, hp.port);
      if (index < 0) {
        index = static_cast<int>(servers_.size());
        servers_.push_back({.host = hp.host, .port = hp.port, .address = *address});
      }
      mine.push_back(index);
    }
    stores_.push_back(mine);
  }
  remove_leftovers();
  // A /24 of 198.18.0.0/15 that no interface here uses yet, from the pid on.
  const std::string used = ip({"-o", "-4", "addr", "show"}).output;
  const int first = ::getpid() % 512;
  subnet_ = -1;
  for (int i = 0; i < 512 && subnet_ < 0; ++i) {
    const int x = (first + i) % 512;
    const std::string prefix =
        " 198." + std::to_string(18 + x / 256) + "." + std::to_string(x % 256) + ".";
    if (used.find(prefix) == std::string::npos) subnet_ = x;
  }
  if (subnet_ < 0) throw std::runtime_error("network faults: no free /24 in 198.18.0.0/15");
  proxies_ = std::make_unique<ProxyHub>();
}

ClientNetworks::~ClientNetworks() {
  proxies_.reset();
  for (size_t i = 0; i < clients_.size(); ++i) {
    if (clients_[i].ns.empty()) continue;
    if (clients_[i].fd >= 0) ::close(clients_[i].fd);
    ip({"netns", "delete", clients_[i].ns});  // its veth0, the pair, and its rules go too
  }
}

int ClientNetworks::server_index(const std::string& host, int port) const {
  const auto address = resolve(host);
  for (size_t k = 0; k < servers_.size(); ++k)
    if (address && servers_[k].address == *address && servers_[k].port == port)
      return static_cast<int>(k);
  return -1;
}

std::string ClientNetworks::host_address(int client) const {
  return "198." + std::to_string(18 + subnet_ / 256) + "." + std::to_string(subnet_ % 256) + "." +
         std::to_string(4 * client + 1);
}

int ClientNetworks::namespace_fd(int client) {
  if (client < 0 || client >= kMaxClients)
    throw std::runtime_error("network faults: at most " + std::to_string(kMaxClients) + " clients");
  if (client >= static_cast<int>(clients_.size())) clients_.resize(static_cast<size_t>(client) + 1);
  Client& c = clients_[static_cast<size_t>(client)];
  if (c.fd >= 0) return c.fd;
  const pid_t pid = ::getpid();
  const std::string ns = namespace_name(pid, client);
  const std::string veth = host_veth(pid, client);
  const uint32_t host = resolve(host_address(client)).value_or(0);
  const std::string inside = dotted(host + 1) + "/30";
  auto must = [&](const Ran& r, const std::string& what) {
    if (!r.ok())
      throw std::runtime_error("network faults: client " + std::to_string(client) + ": " + what +
                               ": " + r.why());
  };
  must(ip({"netns", "add", ns}), "ip netns add " + ns);
  c.ns = ns;  // from here on, removed at the end whatever happens
  must(ip({"link", "add", veth, "type", "veth", "peer", "name", "veth0", "netns", ns}),
       "ip link add " + veth);
  must(ip({"addr", "add", dotted(host) + "/30", "dev", veth}), "ip addr add");
  must(ip({"link", "set", veth, "up"}), "ip link set " + veth + " up");
  must(ip({"-n", ns, "addr", "add", inside, "dev", "veth0"}), "ip addr add (inside)");
  must(ip({"-n", ns, "link", "set", "veth0", "up"}), "ip link set veth0 up");
  must(ip({"-n", ns, "link", "set", "lo", "up"}), "ip link set lo up");
  for (size_t k = 0; k < servers_.size(); ++k) {
    const Server& s = servers_[k];
    int port = 0;
    std::string why = proxies_->forward(client, static_cast<int>(k), socket_address(host, 0),
                                        socket_address(s.address, s.port), port);
    if (!why.empty()) throw std::runtime_error("network faults: " + why);
    c.ports.push_back(port);
  }
  c.fd = ::open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
  if (c.fd < 0)
    throw std::runtime_error("network faults: cannot open /run/netns/" + ns + ": " +
                             std::strerror(errno));
  return c.fd;
}

std::string ClientNetworks::rewrite_connect(const std::string& connect, int client) const {
  auto [hosts, chroot] = split_connect(connect);
  const auto& ports = clients_.at(static_cast<size_t>(client)).ports;
  std::string out;
  for (const auto& hp : hosts) {
    if (!out.empty()) out += ",";
    const int k = server_index(hp.host, hp.port);
    out += k < 0 ? hp.host + ":" + std::to_string(hp.port)
                 : host_address(client) + ":" + std::to_string(ports.at(static_cast<size_t>(k)));
  }
  return out + chroot;
}

LiveClientSpec ClientNetworks::rewrite(const LiveClientSpec& spec) const {
  LiveClientSpec s = spec;
  for (auto& cs : s.connect) cs = rewrite_connect(cs, spec.index);
  if (!s.resource_connect.empty())
    s.resource_connect = rewrite_connect(s.resource_connect, spec.index);
  return s;
}

std::vector<int> ClientNetworks::servers_of(const LiveFault& f) const {
  if (f.server) {
    if (*f.server < 0 || *f.server >= servers()) return {};
    return {*f.server};
  }
  if (f.store) {
    if (*f.store < 0 || *f.store >= static_cast<int>(stores_.size())) return {};
    return stores_[static_cast<size_t>(*f.store)];
  }
  std::vector<int> all;
  for (int k = 0; k < servers(); ++k) all.push_back(k);
  return all;
}

// The DROP rules of a partition or a loss, added or deleted (a rule added twice by two
// faults at once is two rules, and each heal deletes one).
std::string ClientNetworks::rules(int client, const LiveFault& f, bool add) {
  if (client < 0 || client >= static_cast<int>(clients_.size()) ||
      clients_[static_cast<size_t>(client)].ns.empty())
    return "client " + std::to_string(client) + " has no namespace";
  const std::vector<int> targets = servers_of(f);
  if (targets.empty()) return "no such server";
  const bool every = static_cast<int>(targets.size()) == servers();
  const bool out = f.kind == FaultKind::Loss || f.direction != "from_server";
  const bool in = f.kind == FaultKind::Loss || f.direction != "to_server";
  std::vector<std::vector<std::string>> specs;
  for (int k : every ? std::vector<int>{-1} : targets) {
    for (bool outgoing : {true, false}) {
      if (outgoing ? !out : !in) continue;
      std::vector<std::string> r = {outgoing ? "OUTPUT" : "INPUT", outgoing ? "-o" : "-i", "veth0"};
      if (k >= 0) {
        const std::string port =
            std::to_string(clients_[static_cast<size_t>(client)].ports.at(static_cast<size_t>(k)));
        r.insert(r.end(), {"-p", "tcp", outgoing ? "--dport" : "--sport", port});
      }
      if (f.kind == FaultKind::Loss) {
        char p[32];
        std::snprintf(p, sizeof p, "%.6f", f.probability);
        r.insert(r.end(), {"-m", "statistic", "--mode", "random", "--probability", p});
      }
      r.insert(r.end(), {"-j", "DROP"});
      specs.push_back(r);
    }
  }
  const std::string& ns = clients_[static_cast<size_t>(client)].ns;
  std::string problems;
  for (const auto& r : specs) {
    std::vector<std::string> args = {"netns", "exec", ns, "iptables", "-w", add ? "-A" : "-D"};
    args.insert(args.end(), r.begin(), r.end());
    Ran ran = ip(args);
    if (!ran.ok()) problems += (problems.empty() ? "iptables: " : "; ") + ran.why();
  }
  return problems;
}

std::string ClientNetworks::strike(int client, const LiveFault& f) {
  if (f.kind == FaultKind::Partition || f.kind == FaultKind::Loss) return rules(client, f, true);
  if (f.kind == FaultKind::Latency) {
    const std::vector<int> targets = servers_of(f);
    if (targets.empty()) return "no such server";
    for (int k : targets) proxies_->set_latency(client, k, f.latency_min, f.latency_max);
    return "";
  }
  return f.name + " is not a network fault";
}

std::string ClientNetworks::heal(int client, const LiveFault& f) {
  if (f.kind == FaultKind::Partition || f.kind == FaultKind::Loss) return rules(client, f, false);
  if (f.kind == FaultKind::Latency) {
    // Only this fault's own delay ends: a later spike that replaced it stays.
    for (int k : servers_of(f))
      if (proxies_->latency(client, k) == std::pair{f.latency_min, f.latency_max})
        proxies_->set_latency(client, k, Duration(0), Duration(0));
    return "";
  }
  return f.name + " is not a network fault";
}

}  // namespace lockstep::real
