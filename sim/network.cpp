#include "sim/network.h"

#include <algorithm>

namespace lockstep::sim {

ConnectionPtr Network::open(Process* client_proc, int client, Process* server_proc, int store) {
  auto c = std::make_shared<Connection>();
  c->id = ++next_id_;
  c->client = client;
  c->store = store;
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
  MessageFate f = fate ? fate(c->client, c->store, Direction::ToServer) : MessageFate{};
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
  MessageFate f = fate ? fate(c->client, c->store, Direction::ToClient) : MessageFate{};
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

Time Network::close_time(const ConnectionPtr& c, Direction dir) {
  // A close is a packet (a FIN) like any other: a partition holds it until it heals, so a
  // cut-off peer cannot hear it sooner. It is never lost (TCP retransmits it).
  MessageFate f = fate ? fate(c->client, c->store, dir) : MessageFate{};
  Time& last = dir == Direction::ToServer ? c->last_to_server : c->last_to_client;
  // It leaves at the heal, behind what was held (FIFO); no draw of its own, so a close
  // moves no other message's latency.
  Time t = std::max(fifo_time(last) + f.extra, f.not_before);
  last = std::max(last, t);
  return t;
}

void Network::close_by_client(const ConnectionPtr& c) {
  if (c->client_closed) return;
  c->client_closed = true;
  Time t = close_time(c, Direction::ToServer);
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
  Time t = close_time(c, Direction::ToClient);
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
