#include "sim/faults/injector.h"

#include <algorithm>

#include "sim/faults/table.h"
#include "sim/faults/trigger.h"

namespace lockstep::sim {

FaultInjector::FaultInjector(Wiring wiring, const Scenario& scenario)
    : w_(std::move(wiring)), scenario_(scenario), roles_(static_cast<int>(w_.clients.size())) {
  w_.network->fate = [this](int client, int store, Direction dir) {
    return fate(client, store, dir);
  };
  for (ZkServer* server : store_servers())
    server->lose_reply = [this](int client, int store, RequestKind kind) {
      return lose_reply(client, store, kind);
    };
}

std::vector<ZkServer*> FaultInjector::store_servers() const {
  if (w_.servers.empty()) return {w_.server};
  return w_.servers;
}

bool FaultInjector::lose_reply(int client, int store, RequestKind kind) {
  static const RequestKind kOps[] = {
      RequestKind::Create, RequestKind::Remove,   RequestKind::Set,  RequestKind::Get,
      RequestKind::Exists, RequestKind::Children, RequestKind::Multi};
  if (drops_.empty()) return false;
  bool is_op = false;
  for (RequestKind k : kOps) is_op |= (k == kind);
  if (!is_op) return false;
  for (auto it = drops_.begin(); it != drops_.end(); ++it) {
    if (it->client == client && (!it->store || *it->store == store) &&
        (it->op.empty() || it->op == request_kind_name(kind))) {
      drops_.erase(it);
      last_reply_lost_ = w_.world->now();
      note(client, std::string("drop_reply: the reply to ") + request_kind_name(kind) +
                       (store_servers().size() > 1 ? " on store " + std::to_string(store) : "") +
                       " is lost, the connection breaks");
      return true;
    }
  }
  return false;
}

void FaultInjector::schedule_all() {
  for (const Fault& f : scenario_.faults) schedule(f);
  if (scenario_.nemesis.enabled)
    for (const Fault& f : draw_nemesis(scenario_)) schedule(f);
}

void FaultInjector::schedule(const Fault& f) {
  if (f.after) {
    armed_.push_back({f, 0});
    return;
  }
  w_.world->at(f.at, [this, f] { apply(f); });
}

void FaultInjector::on_event(const HistoryEvent& e) {
  for (auto it = armed_.begin(); it != armed_.end();) {
    if (!trigger_matches(*it->fault.after, e) || ++it->seen < it->fault.after->nth) {
      ++it;
      continue;
    }
    Fault fired = it->fault;
    fired.after.reset();
    fired.at = add_sat(w_.world->now(), Duration(it->fault.at));
    triggered_over_ = std::max(triggered_over_.value_or(Time(0)), fault_end(fired));
    it = armed_.erase(it);
    schedule(fired);
  }
}

Time fault_end(const Fault& f) {
  Time t = f.at;
  if (f.length) t = std::max(t, add_sat(f.at, *f.length));
  if (f.restart_after) t = std::max(t, add_sat(f.at, *f.restart_after));
  if (f.clock.strobe)
    t = std::max(t, add_sat(f.at, add_sat(f.clock.strobe->length, f.clock.strobe->swing)));
  // A step back holds every timer of that clock (pings included) for as long as the
  // step: the outage lasts that much after the jump.
  if (f.clock.jump && f.clock.jump->count() < 0) t = std::max(t, sub_sat(f.at, *f.clock.jump));
  return t;
}

void FaultInjector::note(int client, const std::string& what) {
  HistoryEvent e;
  e.client = client;
  e.kind = EventKind::Fault;
  e.detail = what;
  w_.recorder->record(std::move(e));
}

ZkServer& FaultInjector::store_server(int store) const {
  // The parser checked the index against the algorithm's stores; one store is w_.server.
  if (w_.servers.empty() || store < 0 || store >= static_cast<int>(w_.servers.size()))
    return *w_.server;
  return *w_.servers[static_cast<size_t>(store)];
}

void FaultInjector::restart_later(int client, Duration after) {
  ++pending_restarts_[client];
  World& world = *w_.world;
  world.at(world.now() + after, [this, client] {
    --pending_restarts_[client];
    note(client, "restart");
    this->client(client).restart();
    if (w_.restart_client) w_.restart_client(client);
  });
}

namespace {

// The client whose lock key is on `server` now: the creator of the lock path's own node
// when it is one (an ephemeral or TTL node, as zk-slow's), else of its oldest child (the
// head of a queue, the incarnation of a Redlock key that counts). -1 if there is none, or
// the server is down.
int key_holder(ZkServer& server, const std::string& lock_path) {
  if (!server.up()) return -1;
  DataTree& tree = server.tree();
  if (tree.exists(0, lock_path, false).err == Error::Ok &&
      tree.stored_ephemeral_owner(lock_path) != 0)
    return server.opener_of(tree.creator_of(lock_path));
  ReadResult kids = tree.children(0, lock_path, false);
  if (kids.err != Error::Ok) return -1;
  int64_t oldest = 0;
  std::string head;
  for (const std::string& name : *kids.children) {
    const std::string path = lock_path == "/" ? "/" + name : lock_path + "/" + name;
    const ReadResult node = tree.exists(0, path, false);
    if (node.err == Error::Ok && (head.empty() || node.stat.czxid < oldest)) {
      oldest = node.stat.czxid;
      head = path;
    }
  }
  return head.empty() ? -1 : server.opener_of(tree.creator_of(head));
}

}  // namespace

int FaultInjector::resolve(const Target& t) const {
  switch (t.kind) {
    case Target::Kind::Index:
      return t.index;
    case Target::Kind::Server:
      return -2;
    case Target::Kind::NthHolder: {
      int grants = 0;
      for (const HistoryEvent& e : w_.history->events())
        if (e.kind == EventKind::Acquired && ++grants == t.index) return e.client;
      return -1;
    }
    case Target::Kind::HolderOnStore:
      return key_holder(store_server(t.index), scenario_.lock_path);
    case Target::Kind::Holder:
    case Target::Kind::Waiter:
      return roles_.client_in_role(w_.history->events(), t.kind == Target::Kind::Holder
                                                             ? ClientRole::Holder
                                                             : ClientRole::Waiter);
  }
  return -1;
}

MessageFate FaultInjector::fate(int client, int store, Direction dir) {
  MessageFate out;
  // Most messages pass with no window open: they cost nothing here.
  if (partitions_.empty() && spikes_.empty() && losses_.empty()) return out;
  const Time now = w_.world->now();
  // Windows that are over can never be active again (each starts when its fault strikes):
  // dropping them keeps a message's cost to the faults active now, which the budget counts.
  for (auto* windows : {&partitions_, &spikes_, &losses_})
    std::erase_if(*windows, [now](const Window& w) { return w.until <= now; });
  w_.world->charge(partitions_.size() + spikes_.size() + losses_.size());
  auto active = [&](const Window& win) {
    return win.from <= now && now < win.until && (win.client < 0 || win.client == client) &&
           (win.store < 0 || win.store == store);
  };
  for (const Window& p : partitions_) {
    if (!active(p)) continue;
    if (p.way == Way::Both || (p.way == Way::ToServer && dir == Direction::ToServer) ||
        (p.way == Way::FromServer && dir == Direction::ToClient))
      out.not_before = std::max(out.not_before, p.until);
  }
  for (const Window& l : losses_)
    if (active(l) && w_.world->rng().chance(l.probability)) out.break_conn = true;
  for (const Window& s : spikes_)
    if (active(s))
      out.extra = add_sat(out.extra, w_.world->rng().between(s.latency.min, s.latency.max));
  return out;
}

void FaultInjector::apply(const Fault& f) {
  int client = f.target ? resolve(*f.target) : -1;
  const bool needs_client = f.target.has_value() && f.target->kind != Target::Kind::Server;
  if (needs_client && client < 0) {
    const std::string who =
        f.target->kind == Target::Kind::Holder   ? "no holder right now"
        : f.target->kind == Target::Kind::Waiter ? "no waiter right now"
        : f.target->kind == Target::Kind::HolderOnStore
            ? "no key on store " + std::to_string(f.target->index) + " right now"
            : "no grant " + std::to_string(f.target->index) + " yet";
    note(-1, std::string(fault_name(f.kind)) + ": skipped, " + who);
    return;
  }
  fault_descriptor(f.kind).apply(*this, f, client);
}

std::vector<Fault> FaultInjector::draw_nemesis(const Scenario& sc) {
  std::vector<Fault> out;
  if (!sc.nemesis.enabled || sc.nemesis.kinds.empty()) return out;
  Prng rng(sc.seed ^ 0x6E656D6573697321ull);  // its own stream: the world's stays unchanged
  NemesisDraw draw{.rng = rng, .timeout = sc.session_timeout, .clients = sc.clients};
  Time t{0};
  // Nothing is drawn after quiet_after, nothing after the run's end would ever be applied,
  // and never more than kMaxNemesisFaults (the parser refuses an interval that would come
  // near it), whatever the interval.
  for (size_t drawn = 0; drawn < kMaxNemesisFaults; ++drawn) {
    t = add_sat(t, rng.between(Duration(0), mul_sat(sc.nemesis.mean_interval, 2)));
    if (t >= sc.nemesis.quiet_after || t > sc.duration) break;
    Fault f;
    f.kind = sc.nemesis.kinds[rng.below(sc.nemesis.kinds.size())];
    f.at = t;
    const FaultDescriptor& d = fault_descriptor(f.kind);
    if (!d.draw) continue;
    d.draw(draw, f);
    out.push_back(f);
  }
  return out;
}

}  // namespace lockstep::sim
