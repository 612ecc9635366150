#include "sim/network.h"

#include <algorithm>

namespace lockstep::sim {

ConnectionPtr Network::open(Process* client_proc, int client, Process* server_proc) {
  auto c = std::make_shared<Connection>();
  c->id = ++next_id_;
  c->client = client;
  c->client_proc = client_proc;
  c->server_proc = server_proc;
  return c;
}

Duration Network::latency() { return world_.rng().between(spec_.latency.min, spec_.latency.max); }

Time Network::fifo_time(Time& last) {
  Time t = world_.now() + latency();
  if (t < last) t = last;
  last = t;
  return t;
}

void Network::to_server(const ConnectionPtr& c, RequestPtr msg) {
  if (c->client_closed) return;
  ++messages_;
  MessageFate f = fate ? fate(c->client, Direction::ToServer) : MessageFate{};
  if (f.break_conn) {
    sever(c);
    return;
  }
  Time t = std::max(add_sat(fifo_time(c->last_to_server), f.extra), f.not_before + latency());
  c->last_to_server = std::max(c->last_to_server, t);
  c->server_proc->post_at(t, [c, msg = std::move(msg)] {
    if (!c->server_closed && c->server_receive) c->server_receive(msg);
  });
}

void Network::to_client(const ConnectionPtr& c, ReplyPtr msg) {
  if (c->server_closed) return;
  ++messages_;
  MessageFate f = fate ? fate(c->client, Direction::ToClient) : MessageFate{};
  if (f.break_conn) {
    sever(c);
    return;
  }
  Time t = std::max(add_sat(fifo_time(c->last_to_client), f.extra), f.not_before + latency());
  c->last_to_client = std::max(c->last_to_client, t);
  c->client_proc->post_at(t, [c, msg = std::move(msg)] {
    if (!c->client_closed && c->client_receive) c->client_receive(msg);
  });
}

void Network::close_by_client(const ConnectionPtr& c) {
  if (c->client_closed) return;
  c->client_closed = true;
  Time t = fifo_time(c->last_to_server);
  c->server_proc->post_at(t, [c] {
    if (!c->server_closed) {
      c->server_closed = true;
      if (c->server_eof) c->server_eof();
    }
  });
}

void Network::close_by_server(const ConnectionPtr& c) {
  if (c->server_closed) return;
  c->server_closed = true;
  Time t = fifo_time(c->last_to_client);
  c->client_proc->post_at(t, [c] {
    if (!c->client_closed) {
      c->client_closed = true;
      if (c->client_eof) c->client_eof();
    }
  });
}

void Network::sever(const ConnectionPtr& c) {
  // Each side learns of the break by its own means, soon: the data in flight is lost.
  if (!c->client_closed) {
    c->client_closed = true;
    c->client_proc->post([c] {
      if (c->client_eof) c->client_eof();
    });
  }
  if (!c->server_closed) {
    c->server_closed = true;
    c->server_proc->post([c] {
      if (c->server_eof) c->server_eof();
    });
  }
}

}  // namespace lockstep::sim
