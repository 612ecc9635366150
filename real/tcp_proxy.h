// The TCP forwarders between the clients' network namespaces and the servers: for each
// client and server, a listener on the host side of the client's veth (a port of its
// own on the client's own host address) whose connections are forwarded to the server on
// loopback, byte for byte, each way. A live `latency` fault is done here: what passes
// through a client's forwarders is held for a delay drawn from its range, each chunk as
// read, in order (a later chunk never overtakes an earlier one, as on a TCP stream).
//
// All forwarders of a run share one thread (epoll); they go, with every connection, when
// the hub does.
#pragma once

#include <netinet/in.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "core/time.h"

namespace lockstep::real {

class ProxyHub {
 public:
  ProxyHub();
  ~ProxyHub();
  ProxyHub(const ProxyHub&) = delete;
  ProxyHub& operator=(const ProxyHub&) = delete;

  // Listens on `at` (its port 0: one the system picks, put in `port`) and forwards to
  // `target`, as client `client`'s way to server `server`. "" when listening, else why not.
  std::string forward(int client, int server, const sockaddr_in& at, const sockaddr_in& target,
                      int& port);
  // What passes between client and server is held for min..max from now on (0..0: not).
  // Thread-safe.
  void set_latency(int client, int server, Duration min, Duration max);
  std::pair<Duration, Duration> latency(int client, int server) const;

 private:
  struct Loop;
  std::unique_ptr<Loop> loop_;
  mutable std::mutex mu_;
  std::map<std::pair<int, int>, std::pair<Duration, Duration>> latency_;
  std::thread thread_;
};

}  // namespace lockstep::real
