// The simulated network: connections between a client process and a server process,
// each direction FIFO (as TCP is), each message delayed by a latency drawn from the
// world's PRNG. A side that closes stops receiving; the peer sees the close after the
// data already on its way. Faults (partitions, loss, spikes) are hooks consulted per
// message.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "sim/process.h"
#include "sim/scenario.h"
#include "sim/world.h"
#include "sim/zk/protocol.h"

namespace lockstep::sim {

enum class Direction { ToServer, ToClient };

struct Connection {
  uint64_t id = 0;
  int client = -1;  // client index
  int store = -1;   // the store the server serves (-1: none a fault can name)
  Process* client_proc = nullptr;
  Process* server_proc = nullptr;
  bool client_closed = false;
  bool server_closed = false;
  Time last_to_server{0};
  Time last_to_client{0};
  // Receivers; each runs as work of the receiving process.
  std::function<void(const RequestPtr&)> server_receive;
  std::function<void()> server_eof;
  std::function<void(const ReplyPtr&)> client_receive;
  std::function<void()> client_eof;
};
using ConnectionPtr = std::shared_ptr<Connection>;

// What the fault injector decides for one message.
// TCP never loses data silently: a partition delays what is sent until it heals (the
// retransmissions get through), unless the connection is closed meanwhile.
struct MessageFate {
  Time not_before{0};       // a partition: delivered no earlier than its end
  bool break_conn = false;  // the connection breaks (loss/duplication as TCP sees it)
  Duration extra{0};        // extra delay (latency spike)
};

class Network {
 public:
  Network(World& world, NetworkSpec spec) : world_(world), spec_(spec) {}

  ConnectionPtr open(Process* client_proc, int client, Process* server_proc, int store);
  void to_server(const ConnectionPtr& c, RequestPtr msg);
  void to_client(const ConnectionPtr& c, ReplyPtr msg);
  // A side closes: it hears nothing more; the peer learns after the data in flight, and
  // not before a partition between them heals.
  void close_by_client(const ConnectionPtr& c);
  void close_by_server(const ConnectionPtr& c);
  // Breaks the connection at once on both sides (each learns by its own EOF).
  void sever(const ConnectionPtr& c);

  // Set by the fault injector; consulted for each message.
  std::function<MessageFate(int client, int store, Direction dir)> fate;

  uint64_t messages() const { return messages_; }

 private:
  Duration latency();
  Time fifo_time(Time& last);
  Time close_time(const ConnectionPtr& c, Direction dir);

  World& world_;
  NetworkSpec spec_;
  uint64_t next_id_ = 0;
  uint64_t messages_ = 0;
};

}  // namespace lockstep::sim
