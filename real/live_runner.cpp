#include "real/live_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <future>
#include <map>
#include <stdexcept>

#include "core/json.h"
#include "core/resource.h"
#include "real/child_environment.h"
#include "real/event_loop.h"
#include "real/live_env.h"
#include "real/zk_store.h"

namespace lockstep::real {

Task<Error> LiveBackend::prepare(Env&, Duration) { co_return Error::Ok; }

namespace {

bool network_fault(FaultKind k) {
  return k == FaultKind::Partition || k == FaultKind::Latency || k == FaultKind::Loss;
}

}  // namespace

// The kinds a backend does through strike(): refused unless it says otherwise.
std::string LiveBackend::prepare_faults(const std::vector<LiveFault>& faults) {
  for (const auto& f : faults)
    if (f.kind == FaultKind::Clock || network_fault(f.kind))
      return "fault " + f.name + ": not on " + describe() + " (client processes on zk: only)";
  return "";
}

std::string LiveBackend::strike(int, const LiveFault& f) {
  return f.name + " is not done on " + describe();
}

std::string LiveBackend::heal(int, const LiveFault& f) {
  return f.name + " is not done on " + describe();
}

ZkNodeOutcome LiveBackend::kill_leader() {
  ZkNodeOutcome o;
  o.text = "kill-leader: no leader to kill on " + describe();
  return o;
}

ZkNodeOutcome LiveBackend::restart_node(const std::string& node) {
  ZkNodeOutcome o;
  o.node = node;
  o.text = "restart: nothing to restart on " + describe();
  return o;
}

std::vector<std::string> history_trace(const History& h) {
  std::vector<std::string> out;
  for (const auto& e : h.events()) {
    std::string line = "{\"t\":" + std::to_string(e.lo.count()) +
                       ",\"hi\":" + std::to_string(e.hi.count()) + ",\"src\":";
    line += e.client >= 0 ? "\"client " + std::to_string(e.client) + "\"" : "\"world\"";
    line += ",\"ev\":\"" + std::string(event_kind_name(e.kind)) + "\"";
    if (e.token) line += ",\"token\":" + std::to_string(*e.token);
    if (e.value) line += ",\"value\":" + std::to_string(*e.value);
    if (e.kind == EventKind::ResourceWrite)
      line += std::string(",\"accepted\":") + (e.accepted() ? "true" : "false");
    if (!e.detail.empty()) line += ",\"detail\":" + json_quote(e.detail);
    out.push_back(line + "}");
  }
  return out;
}

// --- ProcessBackend ---------------------------------------------------------------------------

struct ProcessBackend::Child {
  int index = 0;
  pid_t pid = -1;
  int fd = -1;
  std::string buffer;
  bool reaped = false;
  bool killed = false;  // by us: no Exited message
  int status = 0;
  std::vector<ClientMessage> pending;  // read after a kill, not yet handed out
};

ProcessBackend::ProcessBackend(std::vector<std::string> connect, std::string executable,
                               ZkOptions options)
    : connect_(std::move(connect)),
      executable_(std::move(executable)),
      options_(std::move(options)),
      control_(connect_.empty() ? std::string() : connect_.front()) {
  if (connect_.empty()) throw std::invalid_argument("ProcessBackend: no connect string");
  if (executable_.empty()) {
    char buf[4096];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    executable_ = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "/proc/self/exe";
  }
  admin_ = std::make_unique<ZkStore>(connect_.front(), options_);
}

ProcessBackend::~ProcessBackend() { kill_all(); }

std::string ProcessBackend::describe() const {
  std::string s = "zk:" + connect_.front();
  for (size_t i = 1; i < connect_.size(); ++i) s += " zk:" + connect_[i];
  return s;
}

Store& ProcessBackend::admin_store() { return *admin_; }

Task<Error> ProcessBackend::prepare(Env& env, Duration connect_within) {
  for (const auto& cs : connect_) {
    ZkStore store(cs, options_);
    Error e = co_await store.ensure_chroot(env, connect_within);
    if (e != Error::Ok) co_return e;
  }
  co_return Error::Ok;
}

ProcessBackend::Child* ProcessBackend::child(int client) const {
  if (client < 0 || client >= static_cast<int>(children_.size())) return nullptr;
  return children_[static_cast<size_t>(client)].get();
}

void ProcessBackend::start(const LiveClientSpec& spec) {
  if (spec.index >= static_cast<int>(children_.size()))
    children_.resize(static_cast<size_t>(spec.index) + 1);
  auto& slot = children_[static_cast<size_t>(spec.index)];
  if (slot && !slot->reaped) throw std::logic_error("client already running");

  // In a network namespace of its own, the client reaches the servers through our
  // forwarders: its connect strings name them.
  const int netns = networks_ ? networks_->namespace_fd(spec.index) : -1;
  std::vector<std::string> words = {executable_, "live-client"};
  for (auto& w : encode_client_spec(networks_ ? networks_->rewrite(spec) : spec))
    words.push_back(std::move(w));
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  std::vector<std::pair<std::string, std::string>> settings = {
      {kZkAuthEnvironment, options_.auth ? format_zk_auth(*options_.auth) : ""}};
  if (clocks_)
    for (auto& s : clocks_->settings(spec.index, steady_now())) settings.push_back(std::move(s));
  ChildEnvironment environment(settings);

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    throw std::runtime_error("pipe2: " + std::string(std::strerror(errno)));
  int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    if (devnull >= 0) ::close(devnull);
    throw std::runtime_error("fork: " + std::string(std::strerror(errno)));
  }
  if (pid == 0) {
    // Only async-signal-safe calls until exec: the parent has threads.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    if (devnull >= 0) ::dup2(devnull, 0);
    if (netns >= 0 && ::setns(netns, CLONE_NEWNET) != 0) ::_exit(126);
    if (fds[1] == 3) {
      ::fcntl(3, F_SETFD, 0);
    } else {
      ::dup2(fds[1], 3);
    }
    ::execve(argv[0], argv.data(), environment.envp());
    ::_exit(127);
  }
  ::close(fds[1]);
  if (devnull >= 0) ::close(devnull);
  ::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) | O_NONBLOCK);
  slot = std::make_unique<Child>();
  slot->index = spec.index;
  slot->pid = pid;
  slot->fd = fds[0];
}

namespace {

// Reads what is there; true at end of file.
bool drain(int fd, std::string& buffer) {
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      buffer.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n == 0) return true;
    if (errno == EINTR) continue;
    return errno != EAGAIN && errno != EWOULDBLOCK;
  }
}

void take_lines(std::string& buffer, int client, std::vector<ClientMessage>& out) {
  size_t start = 0;
  for (;;) {
    size_t nl = buffer.find('\n', start);
    if (nl == std::string::npos) break;
    std::string_view line(buffer.data() + start, nl - start);
    if (auto m = decode_message(line, client)) {
      out.push_back(std::move(*m));
    } else {
      ClientMessage bad;
      bad.kind = ClientMessage::Kind::Error;
      bad.client = client;
      bad.text = "unreadable line from the client: " + std::string(line.substr(0, 200));
      out.push_back(std::move(bad));
    }
    start = nl + 1;
  }
  buffer.erase(0, start);
}

}  // namespace

void ProcessBackend::reap(Child& c, bool block) {
  if (c.reaped || c.pid < 0) return;
  int status = 0;
  pid_t got;
  do {
    got = ::waitpid(c.pid, &status, block ? 0 : WNOHANG);
  } while (got < 0 && errno == EINTR);
  if (got == c.pid || (got < 0 && errno == ECHILD)) {
    c.reaped = true;
    c.status = status;
  }
}

std::vector<ClientMessage> ProcessBackend::poll(Duration wait) {
  std::vector<ClientMessage> out;
  for (auto& c : children_) {
    if (!c || c->pending.empty()) continue;
    for (auto& m : c->pending) out.push_back(std::move(m));
    c->pending.clear();
  }
  std::vector<pollfd> fds;
  std::vector<Child*> who;
  for (auto& c : children_) {
    if (!c || c->fd < 0) continue;
    fds.push_back({c->fd, POLLIN, 0});
    who.push_back(c.get());
  }
  // Clamped to poll's int: a wait of 600h is 2.16e9 ms, which wrapped to a negative int.
  int ms =
      out.empty()
          ? static_cast<int>(std::clamp<int64_t>(
                std::chrono::duration_cast<std::chrono::milliseconds>(wait).count(), 0, INT_MAX))
          : 0;
  if (!fds.empty()) {
    if (::poll(fds.data(), fds.size(), std::max(ms, 0)) > 0) {
      for (size_t i = 0; i < fds.size(); ++i) {
        if (!fds[i].revents) continue;
        Child& c = *who[i];
        bool eof = drain(c.fd, c.buffer);
        take_lines(c.buffer, c.index, out);
        if (eof) {
          ::close(c.fd);
          c.fd = -1;
        }
      }
    }
  } else if (ms > 0) {
    ::usleep(static_cast<useconds_t>(std::min(ms, 50)) * 1000);
  }
  // A client whose pipe is closed is about to exit (or has): report it once reaped.
  for (auto& c : children_) {
    if (!c || c->fd >= 0 || c->reaped) continue;
    reap(*c, false);
    if (!c->reaped || c->killed) continue;
    ClientMessage m;
    m.kind = ClientMessage::Kind::Exited;
    m.client = c->index;
    if (WIFEXITED(c->status)) {
      m.clean = WEXITSTATUS(c->status) == 0;
      m.text = "exit status " + std::to_string(WEXITSTATUS(c->status));
    } else if (WIFSIGNALED(c->status)) {
      m.text = "killed by signal " + std::to_string(WTERMSIG(c->status));
    }
    out.push_back(std::move(m));
  }
  return out;
}

bool ProcessBackend::running(int client) const {
  Child* c = child(client);
  return c && !c->reaped && c->pid > 0;
}

bool ProcessBackend::suspend(int client) {
  Child* c = child(client);
  return c && !c->reaped && ::kill(c->pid, SIGSTOP) == 0;
}

bool ProcessBackend::resume(int client) {
  Child* c = child(client);
  return c && !c->reaped && ::kill(c->pid, SIGCONT) == 0;
}

std::string ProcessBackend::crash(int client) {
  Child* c = child(client);
  if (!c || c->reaped) return "not running";
  c->killed = true;
  ::kill(c->pid, SIGKILL);
  reap(*c, true);
  // What it wrote before it died happened: keep it.
  if (c->fd >= 0) {
    drain(c->fd, c->buffer);
    take_lines(c->buffer, c->index, c->pending);
    ::close(c->fd);
    c->fd = -1;
  }
  return "";
}

Error ProcessBackend::expire(const SessionRef& s) {
  const size_t i = s.store < 0 ? 0 : std::min(static_cast<size_t>(s.store), connect_.size() - 1);
  return expire_session(connect_[i], ZkClientId{s.id, s.passwd});
}

ZkNodeOutcome ProcessBackend::kill_leader() { return control_.kill_leader(); }

ZkNodeOutcome ProcessBackend::restart_node(const std::string& node) {
  return control_.restart(node);
}

void ProcessBackend::kill_all() {
  for (auto& c : children_) {
    if (!c || c->reaped) continue;
    crash(c->index);
  }
}

std::string ProcessBackend::prepare_faults(const std::vector<LiveFault>& faults) {
  for (const auto& f : faults) {
    if (f.kind == FaultKind::Clock && !clocks_) {
      if (std::string why = FakeClocks::why_not(); !why.empty()) return why;
      clocks_ = std::make_unique<FakeClocks>();
    }
    if (network_fault(f.kind) && !networks_) {
      if (std::string why = ClientNetworks::why_not(); !why.empty()) return why;
      try {
        networks_ = std::make_unique<ClientNetworks>(connect_);
      } catch (const std::runtime_error& e) {
        return e.what();
      }
    }
    if (network_fault(f.kind) && f.server && *f.server >= networks_->servers())
      return "fault " + f.name + ": no server " + std::to_string(*f.server) + " (the --store " +
             "connect strings name " + std::to_string(networks_->servers()) + ")";
    if (network_fault(f.kind) && f.store && *f.store >= static_cast<int>(connect_.size()))
      return "fault " + f.name + ": no store " + std::to_string(*f.store) + " (" +
             std::to_string(connect_.size()) + " --store given)";
  }
  return "";
}

std::string ProcessBackend::strike(int client, const LiveFault& f) {
  if (f.kind == FaultKind::Clock && clocks_)
    return clocks_->change(client, f.drift_ppm, f.jump, steady_now());
  if (network_fault(f.kind) && networks_) return networks_->strike(client, f);
  return LiveBackend::strike(client, f);
}

std::string ProcessBackend::heal(int client, const LiveFault& f) {
  if (network_fault(f.kind) && networks_) return networks_->heal(client, f);
  return LiveBackend::heal(client, f);
}

// --- the coordinator ------------------------------------------------------------------------

namespace {

using namespace std::chrono_literals;

struct ClientState {
  bool finished = false;  // ClientDone seen, and not restarted since
  bool down = false;      // gone for good (crashed without restart, failed)
  bool exited = false;    // its process/thread is gone
  int pending_restarts = 0;
  Time last_hi{0};
  std::map<int, SessionRef> sessions;  // the latest per store (-1: resource)
  int64_t requests = 0;
};

class Coordinator {
 public:
  Coordinator(const LiveRunSpec& spec, LiveBackend& backend, LiveRunResult& result)
      : spec_(spec),
        backend_(backend),
        result_(result),
        clients_(static_cast<size_t>(spec.clients)) {}

  void run();
  const std::vector<ClientState>& clients() const { return clients_; }
  Time end() const { return end_; }

 private:
  Time now() const { return steady_now() - t0_; }
  void record(HistoryEvent e) { events_.push_back(std::move(e)); }
  void note(int client, const std::string& what, std::optional<Time> lo = std::nullopt) {
    HistoryEvent e;
    e.client = client;
    e.kind = EventKind::Fault;
    e.detail = what;
    e.hi = now();
    e.lo = lo.value_or(e.hi);
    record(std::move(e));
  }
  LiveClientSpec client_spec(int i) const {
    LiveClientSpec s = spec_.client;
    s.index = i;
    s.lock_path = result_.lock_path;
    return s;
  }
  int resolve(const LiveFault& f) const;
  void apply(const LiveFault& f);
  void network(const LiveFault& f, int client);
  void handle(std::vector<ClientMessage> messages);
  void count_towards_triggers(const HistoryEvent& e);
  void after(Duration d, std::function<void()> fn) { followups_.emplace(now() + d, std::move(fn)); }
  void async(std::function<std::string()> work, std::function<void(const std::string&)> then) {
    asyncs_.push_back({std::async(std::launch::async, std::move(work)), std::move(then)});
  }
  bool settled() const;
  void cut_off(Time cut);

  const LiveRunSpec& spec_;
  LiveBackend& backend_;
  LiveRunResult& result_;
  std::vector<ClientState> clients_;
  std::vector<HistoryEvent> events_;
  Time t0_{0};
  Time end_{0};
  std::multimap<Time, std::function<void()>> followups_;
  struct Async {
    std::future<std::string> result;
    std::function<void(const std::string&)> then;
  };
  std::vector<Async> asyncs_;
  std::vector<std::string> killed_nodes_;  // killed and not yet restarted
  // Faults whose time counts from an event, and how many of their events have come.
  struct Armed {
    LiveFault fault;
    int seen = 0;
  };
  std::vector<Armed> armed_;
};

// As the simulator's fault injector: the Nth matching event sets the fault off, and it
// strikes its offset later (counted from when the event reached the runner).
void Coordinator::count_towards_triggers(const HistoryEvent& e) {
  for (auto it = armed_.begin(); it != armed_.end();) {
    if (!trigger_matches(*it->fault.after, e) || ++it->seen < it->fault.after->nth) {
      ++it;
      continue;
    }
    LiveFault fired = std::move(it->fault);
    it = armed_.erase(it);
    fired.after.reset();
    const Duration offset = fired.at;
    after(offset, [this, fired] { apply(fired); });
  }
}

int Coordinator::resolve(const LiveFault& f) const {
  if (f.who == LiveFault::Who::Index) return f.client;
  return client_in_role(events_, static_cast<int>(clients_.size()),
                        f.who == LiveFault::Who::Holder ? ClientRole::Holder : ClientRole::Waiter);
}

void Coordinator::apply(const LiveFault& f) {
  ++result_.faults_applied;
  // The live forms of the fault kinds (sim/faults/live_form.h) that this runner does.
  if (f.kind == FaultKind::StoreCrash) {
    note(-1, "kill-leader");
    const Duration restart = f.restart_after.value_or(3s);
    async(
        [this] {
          ZkNodeOutcome o = backend_.kill_leader();
          return (o.ok ? "1" : "0") + o.node + "\n" + o.text;
        },
        [this, restart](const std::string& r) {
          const bool ok = r[0] == '1';
          const std::string node = r.substr(1, r.find('\n') - 1);
          note(-1, r.substr(r.find('\n') + 1));
          if (!ok) return;
          killed_nodes_.push_back(node);
          after(restart, [this, node] {
            note(-1, "restart " + node);
            async([this, node] { return backend_.restart_node(node).text; },
                  [this, node](const std::string& text) {
                    std::erase(killed_nodes_, node);
                    note(-1, text);
                  });
          });
        });
    return;
  }
  if (f.who == LiveFault::Who::All) {
    for (int i = 0; i < static_cast<int>(clients_.size()); ++i) network(f, i);
    return;
  }
  const int client = resolve(f);
  if (client < 0 || client >= static_cast<int>(clients_.size())) {
    note(-1, f.name + ": skipped, no " + who_text(f) + " right now");
    return;
  }
  ClientState& c = clients_[static_cast<size_t>(client)];
  switch (f.kind) {
    case FaultKind::Pause: {
      if (!backend_.running(client)) return note(client, "pause: skipped, not running");
      const Time lo = now();
      backend_.suspend(client);
      note(client, "pause for " + format_duration(f.length), lo);
      after(f.length, [this, client] {
        const Time lo = now();
        backend_.resume(client);
        note(client, "resume", lo);
      });
      break;
    }
    case FaultKind::ExpireSession: {
      note(client, f.name);
      std::vector<SessionRef> refs;
      for (auto& [store, ref] : c.sessions) refs.push_back(ref);
      async(
          [this, refs, name = f.name] {
            int ended = 0;
            std::string text;
            for (const auto& ref : refs) {
              Error e = backend_.expire(ref);
              if (e == Error::Ok)
                ++ended;
              else if (e != Error::SessionExpired)
                text += std::string(" ") + std::string(error_name(e));
            }
            return name + ": " + std::to_string(ended) + " of " + std::to_string(refs.size()) +
                   " session(s) ended" + (text.empty() ? "" : ";" + text);
          },
          [this, client](const std::string& text) { note(client, text); });
      break;
    }
    case FaultKind::Crash: {
      if (!backend_.running(client)) return note(client, "crash: skipped, already down");
      const Time lo = now();
      std::string why = backend_.crash(client);
      if (!why.empty()) return note(client, "crash: " + why);
      handle(backend_.poll(0ms));  // what it wrote before it died comes first
      HistoryEvent e;
      e.client = client;
      e.kind = EventKind::ClientCrashed;
      e.lo = std::max(lo, c.last_hi);
      e.hi = now();
      record(e);
      c.exited = true;
      note(client,
           f.name + (f.restart_after ? ", restart after " + format_duration(*f.restart_after)
                                     : std::string()));
      if (f.restart_after) {
        ++c.pending_restarts;
        after(*f.restart_after, [this, client] {
          ClientState& c = clients_[static_cast<size_t>(client)];
          --c.pending_restarts;
          note(client, "restart");
          c.finished = false;
          c.exited = false;
          backend_.start(client_spec(client));
        });
      } else {
        c.down = true;
      }
      break;
    }
    case FaultKind::Partition:
    case FaultKind::Latency:
    case FaultKind::Loss:
      network(f, client);
      break;
    case FaultKind::Clock: {
      const Time lo = now();
      const std::string why = backend_.strike(client, f);
      const std::string change =
          f.drift_ppm ? "drift " + drift_text(*f.drift_ppm)
                      : "jump " + std::string(f.jump && f.jump->count() >= 0 ? "+" : "") +
                            format_duration(f.jump.value_or(Duration(0)));
      note(client, "clock: " + change + (why.empty() ? "" : ": not done, " + why), lo);
      break;
    }
    default:
      note(client, f.name + ": skipped, no live form");
      break;
  }
}

// "partition to_server (server 1)", "latency 100ms..200ms", "loss p=0.300".
std::string network_text(const LiveFault& f) {
  std::string what = f.name;
  if (f.kind == FaultKind::Partition) what += " " + f.direction;
  if (f.kind == FaultKind::Latency)
    what += " " + format_duration(f.latency_min) + ".." + format_duration(f.latency_max);
  if (f.kind == FaultKind::Loss) {
    char p[32];
    std::snprintf(p, sizeof p, " p=%.3f", f.probability);
    what += p;
  }
  if (f.server) what += " (server " + std::to_string(*f.server) + ")";
  if (f.store) what += " (store " + std::to_string(*f.store) + ")";
  return what;
}

// A partition, latency or loss on one client, from now for its length.
void Coordinator::network(const LiveFault& f, int client) {
  const Time lo = now();
  const std::string why = backend_.strike(client, f);
  if (!why.empty()) return note(client, network_text(f) + ": not done, " + why, lo);
  note(client, network_text(f) + " for " + format_duration(f.length), lo);
  after(f.length, [this, f, client] {
    const Time lo = now();
    const std::string why = backend_.heal(client, f);
    note(client,
         f.name + (f.kind == FaultKind::Partition ? " healed" : " ended") +
             (why.empty() ? "" : ": " + why),
         lo);
  });
}

void Coordinator::handle(std::vector<ClientMessage> messages) {
  for (auto& m : messages) {
    if (m.client < 0 || m.client >= static_cast<int>(clients_.size())) continue;
    ClientState& c = clients_[static_cast<size_t>(m.client)];
    switch (m.kind) {
      case ClientMessage::Kind::Event: {
        HistoryEvent e = std::move(m.event);
        e.client = m.client;
        e.lo -= t0_;
        e.hi -= t0_;
        if (e.issued) *e.issued -= t0_;
        c.last_hi = std::max(c.last_hi, e.hi);
        if (e.kind == EventKind::ClientDone) c.finished = true;
        if (e.kind == EventKind::ClientStart) c.finished = false;
        count_towards_triggers(e);
        record(std::move(e));
        break;
      }
      case ClientMessage::Kind::Session:
        c.sessions[m.store] = SessionRef{m.client, m.store, m.session_id, m.passwd};
        break;
      case ClientMessage::Kind::Stats:
        c.requests += m.requests;
        break;
      case ClientMessage::Kind::Error: {
        result_.problems.push_back("client " + std::to_string(m.client) + ": " + m.text);
        HistoryEvent e;
        e.client = m.client;
        e.kind = EventKind::Note;
        e.detail = "error: " + m.text;
        e.lo = e.hi = now();
        record(std::move(e));
        break;
      }
      case ClientMessage::Kind::Exited: {
        c.exited = true;
        if (m.clean && c.finished) break;
        // Gone without finishing: it died somewhere after its last word.
        result_.problems.push_back("client " + std::to_string(m.client) + " exited before " +
                                   "finishing (" + m.text + ")");
        HistoryEvent e;
        e.client = m.client;
        e.kind = EventKind::ClientCrashed;
        e.detail = m.text;
        e.lo = c.last_hi;
        e.hi = now();
        record(std::move(e));
        if (c.pending_restarts == 0) c.down = true;
        break;
      }
    }
  }
}

// The duration ran out at `cut`: the clients still running are killed. A killed process
// believes nothing, so each one's belief ends at the cut-off. What anyone did after it is
// not part of the run: killing the clients one by one closes their sessions one by one,
// and a waiter not yet killed may be granted the lock of one already killed, which would
// read as two holders (the local: store did that in about half such runs).
void Coordinator::cut_off(Time cut) {
  const size_t before = events_.size();
  std::erase_if(events_, [cut](const HistoryEvent& e) { return e.client >= 0 && e.lo > cut; });
  const size_t dropped = before - events_.size();
  for (size_t i = 0; i < clients_.size(); ++i) {
    const ClientState& c = clients_[i];
    if (c.finished || (c.down && c.pending_restarts == 0)) continue;
    HistoryEvent e;
    e.client = static_cast<int>(i);
    e.kind = EventKind::ClientCrashed;
    e.detail = "cut off: killed when the duration ran out";
    e.lo = e.hi = cut;
    record(std::move(e));
  }
  if (dropped > 0)
    note(-1, std::to_string(dropped) + " client events after the cut-off left out", cut);
  result_.cut_off = true;
}

bool Coordinator::settled() const {
  if (!followups_.empty() || !asyncs_.empty()) return false;
  for (const auto& c : clients_)
    if (!(c.finished && c.exited) && !(c.down && c.pending_restarts == 0)) return false;
  return true;
}

void Coordinator::run() {
  std::vector<LiveFault> faults;
  for (const LiveFault& f : spec_.faults) {
    if (f.after)
      armed_.push_back({.fault = f});
    else
      faults.push_back(f);
  }
  std::stable_sort(faults.begin(), faults.end(),
                   [](const LiveFault& a, const LiveFault& b) { return a.at < b.at; });
  size_t next_fault = 0;
  std::optional<Time> cut;  // when the duration ran out, if it did

  t0_ = steady_now();
  for (int i = 0; i < spec_.clients; ++i) backend_.start(client_spec(i));
  // Clients that take seconds to be ready (a JVM) start the run's clock once they are, so
  // that fault times count from where the workload begins.
  if (backend_.wait_until_started(spec_.duration)) t0_ = steady_now();
  for (const auto& text : spec_.notes) note(-1, text);

  for (;;) {
    // Faults and their follow-ups that are due, in time order.
    for (;;) {
      const Time t = now();
      const bool fault_due = next_fault < faults.size() && Time(faults[next_fault].at) <= t;
      const bool followup_due = !followups_.empty() && followups_.begin()->first <= t;
      if (!fault_due && !followup_due) break;
      if (fault_due &&
          (!followup_due || Time(faults[next_fault].at) <= followups_.begin()->first)) {
        apply(faults[next_fault++]);
      } else {
        auto fn = std::move(followups_.begin()->second);
        followups_.erase(followups_.begin());
        fn();
      }
    }
    for (size_t i = 0; i < asyncs_.size();) {
      if (asyncs_[i].result.wait_for(0s) == std::future_status::ready) {
        Async done = std::move(asyncs_[i]);
        asyncs_.erase(asyncs_.begin() + static_cast<std::ptrdiff_t>(i));
        done.then(done.result.get());
      } else {
        ++i;
      }
    }
    if (settled()) break;
    if (now() >= Time(spec_.duration)) {
      note(-1, "duration " + format_duration(spec_.duration) +
                   " reached: the clients still running are killed");
      cut = now();
      break;
    }
    Duration wait = 50ms;
    if (next_fault < faults.size())
      wait = std::min(wait, std::max(Duration(0), Time(faults[next_fault].at) - now()));
    if (!followups_.empty())
      wait = std::min(wait, std::max(Duration(0), followups_.begin()->first - now()));
    handle(backend_.poll(wait));
  }
  end_ = now();

  // Whatever is still running goes; a node killed and not yet back is restarted, so the
  // ensemble is whole again before anything else is asked of it.
  backend_.kill_all();
  handle(backend_.poll(0ms));
  for (auto& a : asyncs_) a.then(a.result.get());
  asyncs_.clear();
  for (const auto& node : std::vector<std::string>(killed_nodes_)) {
    note(-1, "restart " + node + " (the run ended first)");
    note(-1, backend_.restart_node(node).text);
  }
  killed_nodes_.clear();
  followups_.clear();  // resumes and client restarts: moot once everything is killed
  if (cut) cut_off(*cut);

  std::stable_sort(events_.begin(), events_.end(),
                   [](const HistoryEvent& a, const HistoryEvent& b) { return a.lo < b.lo; });
  for (auto& e : events_) result_.history.add(std::move(e));
  events_.clear();
}

// What stays behind under the lock path, as sim/run.cpp's leftover_nodes: every node
// below it, and the lock path itself when it is a lock node (an ephemeral).
Task<Error> collect_under(Session& s, const std::string& path, std::vector<std::string>& out) {
  ChildrenReply kids = co_await s.children(path);
  if (kids.err == Error::NoNode) co_return Error::Ok;
  if (kids.err != Error::Ok) co_return kids.err;
  std::sort(kids.children.begin(), kids.children.end());
  for (const auto& name : kids.children) {
    const std::string child = join_path(path, name);
    out.push_back(child);
    Error e = co_await collect_under(s, child, out);
    if (e != Error::Ok) co_return e;
  }
  co_return Error::Ok;
}

struct Final {
  Error err = Error::Ok;
  std::vector<std::string> leftover;
  std::vector<int64_t> owners;  // each leftover node's ephemeral owner (0: none)
  LostUpdateInput resource;
  bool cleaned = false;
  std::string problem;
};

Task<Final> finish(Env& env, Store& store, std::string lock_path, std::string root,
                   bool remove_parent) {
  Final f;
  ConnectReply c = co_await store.connect(env, 10s);
  if (c.err != Error::Ok) {
    f.err = c.err;
    f.problem = "cannot connect for the cleanup: " + std::string(error_name(c.err));
    co_return f;
  }
  Session& s = *c.session;
  ExistsReply self = co_await s.exists(lock_path);
  if (self.err == Error::Ok && self.stat.ephemeral_owner != 0) f.leftover.push_back(lock_path);
  Error e = co_await collect_under(s, lock_path, f.leftover);
  if (e != Error::Ok) f.problem = "listing " + lock_path + ": " + std::string(error_name(e));
  for (const auto& path : f.leftover) {
    ExistsReply node = co_await s.exists(path);
    f.owners.push_back(node.err == Error::Ok ? node.stat.ephemeral_owner : 0);
  }

  const std::string rpath = resource_path(lock_path);
  GetReply got = co_await s.get(rpath);
  if (got.err == Error::Ok) {
    int64_t plain = 0;
    const char* end = got.data.data() + got.data.size();
    const auto as_plain = std::from_chars(got.data.data(), end, plain);
    if (auto st = parse_resource(got.data)) {
      f.resource.final_value = st->value;
    } else if (!got.data.empty() && as_plain.ec == std::errc() && as_plain.ptr == end) {
      // A black-box client's counter (real/blackbox): a plain decimal number.
      f.resource.final_value = plain;
    } else {
      f.resource.final_error = rpath + " holds \"" + got.data + "\"";
    }
  } else if (got.err != Error::NoNode) {
    f.resource.final_error = rpath + ": " + std::string(error_name(got.err));
  }

  e = co_await remove_recursive(s, root);
  if (e != Error::Ok) f.problem = "removing " + root + ": " + std::string(error_name(e));
  if (remove_parent) (void)co_await s.remove(parent_path(root));  // only if empty
  ExistsReply gone = co_await s.exists(root);
  f.cleaned = gone.err == Error::NoNode;
  co_await s.close();
  co_return f;
}

// Connects within `connect_within` (the clients' session timeout: a server that does not
// answer a handshake by then would not keep their sessions either).
Task<Error> setup(Env& env, LiveBackend& backend, std::string root, Duration connect_within) {
  Error e = co_await backend.prepare(env, connect_within);
  if (e != Error::Ok) co_return e;
  ConnectReply c = co_await backend.admin_store().connect(env, connect_within);
  if (c.err != Error::Ok) co_return c.err;
  // A concurrent run may remove an empty parent just as we create under it: retry.
  for (int i = 0; i < 5; ++i) {
    e = co_await ensure_path(*c.session, root);
    if (e != Error::NoNode) break;
  }
  co_await c.session->close();
  co_return e;
}

}  // namespace

LiveRunResult run_live(const LiveRunSpec& spec, LiveBackend& backend) {
  LiveRunResult result;
  const bool default_root = spec.root.empty();
  result.root = default_root ? "/lockstep/live-" + std::to_string(::getpid()) + "-" +
                                   std::to_string(steady_now().count())
                             : spec.root;
  const std::string& lp = spec.client.lock_path;
  result.lock_path = result.root + (lp.empty() || lp[0] != '/' ? "/" : "") + lp;
  if (!valid_path(result.root) || !valid_path(result.lock_path))
    throw std::invalid_argument("lock path: \"" + result.lock_path + "\" is not a valid path");

  // Refused before anything is set up: one line saying why.
  if (std::string why = backend.prepare_faults(spec.faults); !why.empty())
    throw std::runtime_error(why);

  EventLoop loop;
  LiveEnv env(loop, -1);
  const Duration connect_within = spec.client.session_timeout;
  Error e = run_task(env, setup(env, backend, result.root, connect_within), 60s);
  if (e == Error::ConnectionLoss)
    throw std::runtime_error("cannot connect to " + backend.describe() +
                             ": no server answered within " + format_duration(connect_within) +
                             " (the session timeout)");
  if (e != Error::Ok)
    throw std::runtime_error("cannot set up " + result.root + " on " + backend.describe() + ": " +
                             std::string(error_name(e)));

  Coordinator coordinator(spec, backend, result);
  coordinator.run();
  const auto& clients = coordinator.clients();

  // Sessions of clients that did not finish may outlive them on the server until their
  // timeout: end them, so what is left is what the algorithm left.
  for (const auto& c : clients) {
    if (c.finished) continue;
    for (const auto& [store, ref] : c.sessions) (void)backend.expire(ref);
  }

  Final f;
  try {
    f = run_task(
        env, finish(env, backend.admin_store(), result.lock_path, result.root, default_root), 120s);
  } catch (const TaskTimeout&) {
    f.problem = "the cleanup did not finish in time";
  }
  if (!f.problem.empty()) result.problems.push_back(f.problem);
  // An ephemeral left behind names its session, and the client whose session it was: what
  // the liveness report says, so the node can be followed into the history. A live server
  // does not say who created a persistent node.
  for (size_t i = 0; i < f.leftover.size() && i < f.owners.size(); ++i) {
    if (f.owners[i] == 0) continue;
    char id[32];
    std::snprintf(id, sizeof id, "0x%llx", static_cast<unsigned long long>(f.owners[i]));
    std::string who = std::string("session ") + id;
    for (size_t k = 0; k < clients.size(); ++k)
      for (const auto& [store, ref] : clients[k].sessions)
        if (ref.id == f.owners[i]) who = "client " + std::to_string(k) + "'s " + who;
    f.leftover[i] += " (ephemeral of " + who + ")";
  }
  result.cleaned = f.cleaned;
  if (!f.cleaned) result.problems.push_back(result.root + " is still in the store");
  result.elapsed = coordinator.end();

  RunFacts facts{.clients = spec.clients,
                 .cycles = spec.client.cycles,
                 .resource = spec.client.resource,
                 .final_resource = f.resource,
                 .faults = !spec.faults.empty(),
                 .quiet_from = Time(0),
                 .session_timeout = spec.client.session_timeout,
                 .hold = spec.client.hold,
                 .max_latency = spec.latency_bound,
                 .leftover_nodes = f.leftover,
                 .end = coordinator.end(),
                 .all_clients_done = true,
                 .store_requests = 0,
                 .writes_ordered = backend.writes_ordered()};
  for (const auto& c : clients) {
    facts.all_clients_done &= c.finished;
    facts.store_requests += c.requests;
  }
  // Quiet from the last fault's last act (a resume, a node serving again), as measured.
  for (const auto& ev : result.history.events())
    if (ev.kind == EventKind::Fault && ev.detail.rfind("duration ", 0) != 0)
      facts.quiet_from = std::max(facts.quiet_from, ev.hi);
  static_cast<RunOutcome&>(result) = judge(std::move(result.history), facts);
  return result;
}

}  // namespace lockstep::real
