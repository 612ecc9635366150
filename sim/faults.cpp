#include "sim/faults.h"

#include <algorithm>
#include <cstdio>

namespace lockstep::sim {

namespace {

std::string describe_drift(double ppm) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%+.0fppm", ppm);
  return buf;
}

std::string signed_duration(Duration d) { return (d.count() >= 0 ? "+" : "") + format_duration(d); }

}  // namespace

FaultInjector::FaultInjector(Wiring wiring, const Scenario& scenario)
    : w_(std::move(wiring)), scenario_(scenario) {
  w_.network->fate = [this](int client, Direction dir) { return fate(client, dir); };
  w_.server->lose_reply = [this](int client, RequestKind kind) {
    static const RequestKind kOps[] = {
        RequestKind::Create, RequestKind::Remove,   RequestKind::Set,  RequestKind::Get,
        RequestKind::Exists, RequestKind::Children, RequestKind::Multi};
    bool is_op = false;
    for (RequestKind k : kOps) is_op |= (k == kind);
    if (!is_op) return false;
    for (auto it = drops_.begin(); it != drops_.end(); ++it) {
      if (it->client == client && (it->op.empty() || it->op == request_kind_name(kind))) {
        drops_.erase(it);
        last_reply_lost_ = w_.world->now();
        note(client, std::string("drop_reply: the reply to ") + request_kind_name(kind) +
                         " is lost, the connection breaks");
        return true;
      }
    }
    return false;
  };
}

void FaultInjector::schedule_all() {
  for (const Fault& f : scenario_.faults) schedule(f);
  if (scenario_.nemesis.enabled)
    for (const Fault& f : draw_nemesis(scenario_)) schedule(f);
}

void FaultInjector::schedule(const Fault& f) {
  w_.world->at(f.at, [this, f] { apply(f); });
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

int FaultInjector::resolve(const Target& t) const {
  switch (t.kind) {
    case Target::Kind::Index:
      return t.index;
    case Target::Kind::Server:
      return -2;
    case Target::Kind::Holder:
    case Target::Kind::Waiter:
      return client_in_role(
          w_.history->events(), static_cast<int>(w_.clients.size()),
          t.kind == Target::Kind::Holder ? ClientRole::Holder : ClientRole::Waiter);
  }
  return -1;
}

MessageFate FaultInjector::fate(int client, Direction dir) {
  MessageFate out;
  const Time now = w_.world->now();
  auto active = [&](const Window& win) {
    return win.from <= now && now < win.until && (win.client < 0 || win.client == client);
  };
  for (const Window& p : partitions_) {
    if (!active(p)) continue;
    if (p.direction == "both" || (p.direction == "to_server" && dir == Direction::ToServer) ||
        (p.direction == "from_server" && dir == Direction::ToClient))
      out.not_before = std::max(out.not_before, p.until);
  }
  for (const Window& l : losses_)
    if (active(l) && w_.world->rng().chance(l.probability)) out.break_conn = true;
  for (const Window& s : spikes_)
    if (active(s)) out.extra += w_.world->rng().between(s.latency.min, s.latency.max);
  return out;
}

void FaultInjector::change_clock(Process& p, const ClockChange& c, int client) {
  World& world = *w_.world;
  if (c.drift_ppm) {
    p.clock().set_drift_ppm(world.now(), *c.drift_ppm);
    note(client, "clock: drift " + describe_drift(*c.drift_ppm));
  }
  if (c.jump) {
    p.clock().jump(world.now(), *c.jump);
    note(client, "clock: jump " + signed_duration(*c.jump));
  }
  if (c.strobe) {
    // Swings the clock forth and back every period, and leaves it where it started.
    const auto strobe = *c.strobe;
    note(client, "clock: strobe swing " + format_duration(strobe.swing) + " period " +
                     format_duration(strobe.period) + " for " + format_duration(strobe.length));
    int steps = strobe.period.count() > 0 ? static_cast<int>(strobe.length / strobe.period) : 0;
    if (steps % 2 == 1) ++steps;
    for (int i = 0; i < steps; ++i) {
      Duration by = i % 2 == 0 ? strobe.swing : -strobe.swing;
      world.at(world.now() + strobe.period * i, [&p, by, &world] {
        p.clock().jump(world.now(), by);
        p.clock_changed();
      });
    }
  }
  p.clock_changed();
}

void FaultInjector::apply(const Fault& f) {
  World& world = *w_.world;
  int client = f.target ? resolve(*f.target) : -1;
  const bool needs_client = f.target.has_value() && f.target->kind != Target::Kind::Server;
  if (needs_client && client < 0) {
    note(-1, f.kind + ": skipped, no " +
                 std::string(f.target->kind == Target::Kind::Holder ? "holder" : "waiter") +
                 " right now");
    return;
  }
  const Duration length = f.length.value_or(Duration(0));
  const Time until = world.now() + length;

  if (f.kind == "pause") {
    Process& p = *w_.clients[client];
    note(client, "pause for " + format_duration(length));
    p.pause();
    world.at(until, [this, &p, client] {
      note(client, "resume");
      p.resume();
    });
  } else if (f.kind == "crash") {
    Process& p = *w_.clients[client];
    if (!p.alive()) return note(client, "crash: skipped, already down");
    HistoryEvent e;
    e.client = client;
    e.kind = EventKind::ClientCrashed;
    w_.recorder->record(e);
    note(client, "crash" + (f.restart_after ? ", restart after " + format_duration(*f.restart_after)
                                            : std::string()));
    p.crash();
    if (f.restart_after) {
      ++pending_restarts_[client];
      world.at(world.now() + *f.restart_after, [this, &p, client] {
        --pending_restarts_[client];
        note(client, "restart");
        p.restart();
        if (w_.restart_client) w_.restart_client(client);
      });
    }
  } else if (f.kind == "clock") {
    Process& p = client == -2 ? store_server(f.store).process() : *w_.clients[client];
    change_clock(p, f.clock, client == -2 ? -1 : client);
  } else if (f.kind == "partition") {
    note(client, "partition " + f.direction + " for " + format_duration(length));
    partitions_.push_back(Window{world.now(), until, client, f.direction, {}, 0});
    world.at(until, [this, client] { note(client, "partition healed"); });
  } else if (f.kind == "drop_reply") {
    note(client, "drop_reply armed" + (f.op.empty() ? std::string() : " for " + f.op));
    drops_.push_back(PendingDrop{client, f.op});
  } else if (f.kind == "latency") {
    note(client, "latency spike " + format_duration(f.latency.min) + ".." +
                     format_duration(f.latency.max) + " for " + format_duration(length));
    spikes_.push_back(Window{world.now(), until, client, "", f.latency, 0});
  } else if (f.kind == "loss" || f.kind == "duplicate") {
    char p[32];
    std::snprintf(p, sizeof p, "%.3f", f.probability);
    note(client, f.kind + " p=" + p + " for " + format_duration(length) +
                     " (the connection breaks, as TCP would)");
    losses_.push_back(Window{world.now(), until, client, "", {}, f.probability});
  } else if (f.kind == "server_stall") {
    Process& s = store_server(f.store).process();
    note(-1, "server stall for " + format_duration(length));
    s.pause();
    world.at(until, [this, &s] {
      note(-1, "server stall ends");
      s.resume();
    });
  } else if (f.kind == "expire_session") {
    note(client, "expire_session");
    for (int64_t id : w_.server->sessions_of(client)) w_.server->expire_session(id);
  } else if (f.kind == "store_crash") {
    ZkServer* s = &store_server(f.store);
    const std::string name = "store " + std::to_string(f.store);
    note(-1, name + " crash" +
                 (f.restart_after ? ", restart after " + format_duration(*f.restart_after) +
                                        (f.persist ? " with its data" : " empty")
                                  : std::string()));
    s->crash();
    if (f.restart_after) {
      const bool persist = f.persist;
      world.at(world.now() + *f.restart_after, [this, s, name, persist] {
        note(-1, name + " restart");
        s->restart(persist);
      });
    }
  } else {
    note(client, f.kind + ": unknown fault kind, skipped");
  }
}

std::vector<Fault> FaultInjector::draw_nemesis(const Scenario& sc) {
  std::vector<Fault> out;
  if (!sc.nemesis.enabled || sc.nemesis.kinds.empty()) return out;
  Prng rng(sc.seed ^ 0x6E656D6573697321ull);  // its own stream: the world's stays unchanged
  const Duration T = sc.session_timeout;
  auto pick_client = [&](bool allow_roles) {
    Target t;
    uint64_t r = rng.below(allow_roles ? 4 : 2);
    if (allow_roles && r == 0)
      t.kind = Target::Kind::Holder;
    else if (allow_roles && r == 1)
      t.kind = Target::Kind::Waiter;
    else
      t.index = static_cast<int>(rng.below(static_cast<uint64_t>(sc.clients)));
    return t;
  };
  Time t{0};
  for (;;) {
    t += rng.between(Duration(0), sc.nemesis.mean_interval * 2);
    if (t >= sc.nemesis.quiet_after) break;
    Fault f;
    f.kind = sc.nemesis.kinds[rng.below(sc.nemesis.kinds.size())];
    f.at = t;
    if (f.kind == "pause") {
      f.target = pick_client(true);
      // Short pauses and pauses well past the session timeout.
      f.length = rng.chance(0.5) ? rng.between(T / 20, T / 2) : rng.between(T, T * 3);
    } else if (f.kind == "crash") {
      f.target = pick_client(true);
      f.restart_after = rng.between(T / 4, T * 2);
    } else if (f.kind == "clock") {
      if (rng.chance(0.25))
        f.target = Target{Target::Kind::Server, 0};
      else
        f.target = pick_client(true);
      switch (rng.below(3)) {
        case 0: {
          double ppm = static_cast<double>(rng.below(50000) + 100);
          f.clock.drift_ppm = rng.chance(0.5) ? ppm : -ppm;
          break;
        }
        case 1: {
          Duration j = rng.between(std::chrono::milliseconds(100), T * 2);
          f.clock.jump = rng.chance(0.5) ? j : -j;
          break;
        }
        default:
          f.clock.strobe = ClockChange::Strobe{
              rng.between(std::chrono::milliseconds(10), T),
              rng.between(std::chrono::milliseconds(5), std::chrono::milliseconds(200)),
              rng.between(T / 4, T * 2)};
      }
    } else if (f.kind == "partition") {
      f.target = pick_client(true);
      f.length = rng.chance(0.5) ? rng.between(T / 20, T / 2) : rng.between(T, T * 3);
      static const char* kDirections[] = {"both", "to_server", "from_server"};
      f.direction = kDirections[rng.below(3)];
    } else if (f.kind == "drop_reply") {
      f.target = pick_client(true);
      static const char* kOps[] = {"", "create", "delete", "set", "get", "children", "exists"};
      f.op = kOps[rng.below(7)];
    } else if (f.kind == "latency") {
      f.length = rng.between(std::chrono::milliseconds(100), T * 2);
      f.latency.min = std::chrono::milliseconds(1);
      f.latency.max = rng.between(std::chrono::milliseconds(5), T);
      if (rng.chance(0.5)) f.target = pick_client(false);
    } else if (f.kind == "loss" || f.kind == "duplicate") {
      f.length = rng.between(std::chrono::milliseconds(100), T);
      f.probability = static_cast<double>(rng.below(200) + 1) / 1000.0;
      if (rng.chance(0.5)) f.target = pick_client(false);
    } else if (f.kind == "server_stall") {
      f.length = rng.chance(0.5) ? rng.between(T / 20, T / 2) : rng.between(T, T * 2);
    } else if (f.kind == "expire_session") {
      f.target = pick_client(true);
    } else {
      continue;
    }
    out.push_back(f);
  }
  return out;
}

}  // namespace lockstep::sim
