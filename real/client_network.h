// Live network faults (partition, loss, latency): each client process runs in a network
// namespace of its own and reaches the servers only through forwarders of ours.
//
// For client i of the run with pid P: the namespace lockstep-P-i, a veth pair from it to
// the root namespace (lsPhi on the host side, 198.18.X.(4i+1)/30; veth0 inside,
// .(4i+2)/30; 198.18.0.0/15 is the range set aside for network tests), and for each server
// a forwarder (real/tcp_proxy.h) listening on the host side, on a port of its own, that
// connects to the server on loopback. The client's connect strings name those forwarders.
// A partition or a loss is an iptables DROP rule inside the client's namespace (packets
// out of veth0 towards the server: to_server; into it from the server: from_server; with
// `-m statistic --mode random --probability P` for a loss); a latency is the forwarder
// holding bytes. The kernel has no netem here, so nothing uses tc.
//
// Everything is removed when this goes (deleting a namespace deletes its veth and its
// rules), and, on construction, what a run that died left behind: namespaces named after
// a pid that is no longer running.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/faults/live_fault.h"
#include "real/live_client.h"
#include "real/tcp_proxy.h"

namespace lockstep::real {

class ClientNetworks {
 public:
  // "" if network faults can be done here (root, `ip` and `iptables` with the statistic
  // match, network namespaces: a throwaway namespace is made to find out), else one line
  // saying why not.
  static std::string why_not();

  // The servers are those of `connect` (connect strings, "host:port,...[/chroot]"), counted
  // in order without repeats; each must be on loopback. Throws std::runtime_error (one
  // line) if one is not.
  explicit ClientNetworks(const std::vector<std::string>& connect);
  ~ClientNetworks();
  ClientNetworks(const ClientNetworks&) = delete;
  ClientNetworks& operator=(const ClientNetworks&) = delete;

  // The client's namespace, made (with its veth and forwarders) the first time: an fd of
  // it (close-on-exec) for setns() in the client's process before its exec. Throws
  // std::runtime_error if it cannot be made.
  int namespace_fd(int client);
  // The spec with its connect strings naming the client's forwarders.
  LiveClientSpec rewrite(const LiveClientSpec& spec) const;
  // Starts or ends a partition, loss or latency on the client. "" when done, else why not.
  std::string strike(int client, const LiveFault& f);
  std::string heal(int client, const LiveFault& f);
  // How many servers there are (a fault's SERVER is below it).
  int servers() const { return static_cast<int>(servers_.size()); }

 private:
  struct Server {
    std::string host;  // as the connect string names it
    int port = 0;
    uint32_t address = 0;  // IPv4, host order, on loopback
  };
  struct Client {
    std::string ns;
    int fd = -1;
    std::vector<int> ports;  // by server: the port of the client's forwarder to it
  };
  int server_index(const std::string& host, int port) const;  // -1: none of ours
  std::vector<int> servers_of(const LiveFault& f) const;
  std::string rules(int client, const LiveFault& f, bool add);
  std::string host_address(int client) const;
  std::string rewrite_connect(const std::string& connect, int client) const;

  std::vector<std::vector<int>> stores_;  // by connect string: its servers' indices
  std::vector<Server> servers_;
  std::vector<Client> clients_;
  int subnet_ = 0;  // X of 198.18.0.0/15: 0..511
  std::unique_ptr<ProxyHub> proxies_;
};

}  // namespace lockstep::real
