#include "real/blackbox/client_backend.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <stdexcept>

#include "core/json.h"
#include "core/resource.h"
#include "real/blackbox/line_protocol.h"
#include "real/child_environment.h"
#include "real/event_loop.h"
#include "real/live_env.h"
#include "real/zk_store.h"

namespace lockstep::real::blackbox {

using namespace std::chrono_literals;

namespace {

bool executable_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// The line as the client wrote it, cut at 200 bytes, control characters escaped: the
// problem line that echoes it stays one line.
std::string quote_line(std::string_view line) {
  std::string s = one_line(line.substr(0, 200));
  if (line.size() > 200) s += "...";
  return "\"" + s + "\"";
}

}  // namespace

std::vector<std::string> split_command(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  if (words.empty()) throw std::invalid_argument("the command is empty");
  const std::string& prog = words.front();
  bool found = false;
  if (prog.find('/') != std::string::npos) {
    found = executable_file(prog);
  } else if (const char* path = std::getenv("PATH")) {
    std::istringstream dirs(path);
    for (std::string dir; std::getline(dirs, dir, ':') && !found;)
      found = executable_file((dir.empty() ? "." : dir) + "/" + prog);
  }
  if (!found) throw std::invalid_argument("\"" + prog + "\" is not an executable file");
  return words;
}

// One client process and where its workload stands.
struct ClientCommandBackend::Client {
  enum class Phase {
    Starting,      // waiting for ready
    Acquiring,     // acquire sent
    Holding,       // acquired; `due` is the next step (increment or release)
    Incrementing,  // increment sent
    Releasing,     // release sent
    Thinking,      // released; `due` starts the next cycle
    Quitting,      // quit sent: waiting for it to exit
    Done,          // exited after quit, or failed
  };
  LiveClientSpec spec;
  pid_t pid = -1;
  int in = -1;         // its stdin
  int out = -1;        // its stdout
  std::string buffer;  // stdout read, not yet a whole line
  Time buffer_lo{0};   // the first byte in `buffer` was written no earlier
  Time floor{0};       // a byte not yet read was written no earlier
  Time op_lo{0};       // the last op was written no earlier: its answer came after
  int64_t lines = 0;   // stdout lines read so far
  bool reaped = false;
  bool silent_exit = false;  // killed by crash()/kill_all(): no Exited message
  bool suspended = false;
  Time suspended_at{0};
  Phase phase = Phase::Starting;
  int cycle = 0;
  bool holding = false, lost = false, incremented = false;
  std::optional<uint64_t> token;
  Time due{Time::max()};       // Holding / Thinking: when the next step is
  Time deadline{Time::max()};  // an answer is awaited until then
  std::string awaiting;        // what is awaited, for the message when it does not come
  Duration allowed{0};         // how long it was given
  std::string failure;         // why lockstep killed it ("" if it did not)
  std::string log;             // its stderr log
};

ClientCommandBackend::ClientCommandBackend(ClientCommand command, std::string connect,
                                           ClientDeadlines deadlines, ZkOptions options)
    : command_(std::move(command)),
      connect_(std::move(connect)),
      deadlines_(deadlines),
      options_(std::move(options)),
      admin_(std::make_unique<ZkStore>(connect_, options_)),
      control_(connect_) {
  if (command_.argv.empty()) throw std::invalid_argument("ClientCommandBackend: no command");
  // A client that exits makes writes to its stdin fail with EPIPE: an answer, not a death.
  ::signal(SIGPIPE, SIG_IGN);
}

ClientCommandBackend::~ClientCommandBackend() { kill_all(); }

std::string ClientCommandBackend::describe() const { return "zk:" + connect_; }

Store& ClientCommandBackend::admin_store() { return *admin_; }

Task<Error> ClientCommandBackend::prepare(Env& env, Duration connect_within) {
  ZkStore store(connect_, options_);
  co_return co_await store.ensure_chroot(env, connect_within);
}

ClientCommandBackend::Client* ClientCommandBackend::client(int index) const {
  if (index < 0 || index >= static_cast<int>(clients_.size())) return nullptr;
  return clients_[static_cast<size_t>(index)].get();
}

namespace {

Task<Error> make_counter(Env& env, Store& store, std::string path, Duration connect_within) {
  ConnectReply c = co_await store.connect(env, connect_within);
  if (c.err != Error::Ok) co_return c.err;
  Error e = co_await ensure_path(*c.session, parent_path(path));
  if (e == Error::Ok) {
    CreateReply made = co_await c.session->create(path, "0", CreateMode::Persistent);
    e = made.err == Error::NodeExists ? Error::Ok : made.err;
  }
  co_await c.session->close();
  co_return e;
}

}  // namespace

// The counter of `increment` is a plain decimal number that lockstep creates as 0, so a
// client only reads and writes it.
void ClientCommandBackend::create_resource(const std::string& path) {
  EventLoop loop;
  LiveEnv env(loop, -1);
  ZkStore store(connect_, options_);
  Error e = Error::Ok;
  try {
    e = run_task(env, make_counter(env, store, path, 10s), 30s);
  } catch (const TaskTimeout&) {
    e = Error::OperationTimeout;
  }
  if (e != Error::Ok)
    throw std::runtime_error("cannot create the counter " + path + ": " +
                             std::string(error_name(e)));
}

void ClientCommandBackend::start(const LiveClientSpec& spec) {
  if (spec.resource && !resource_ready_) {
    create_resource(resource_path(spec.lock_path));
    resource_ready_ = true;
  }
  if (spec.index >= static_cast<int>(clients_.size()))
    clients_.resize(static_cast<size_t>(spec.index) + 1);
  auto& slot = clients_[static_cast<size_t>(spec.index)];
  if (slot && !slot->reaped) throw std::logic_error("client already running");

  auto c = std::make_unique<Client>();
  c->spec = spec;
  c->log = command_.log_dir + "/client-" + std::to_string(spec.index) + ".log";

  // Everything exec needs is made before fork: the parent has threads.
  std::vector<std::string> words = command_.argv;
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  const std::vector<std::pair<std::string, std::string>> ours = {
      {"LOCKSTEP_ZK", connect_},
      {"LOCKSTEP_LOCK_PATH", spec.lock_path},
      {"LOCKSTEP_RESOURCE_PATH", resource_path(spec.lock_path)},
      {"LOCKSTEP_RESOURCE_FENCED", spec.resource ? (spec.fenced ? "1" : "0") : ""},
      {"LOCKSTEP_CLIENT", std::to_string(spec.index)},
      {"LOCKSTEP_SESSION_TIMEOUT_MS",
       std::to_string(
           std::chrono::duration_cast<std::chrono::milliseconds>(spec.session_timeout).count())},
      {kZkAuthEnvironment, options_.auth ? format_zk_auth(*options_.auth) : ""}};
  ChildEnvironment environment(ours);

  int to_child[2], from_child[2];
  if (::pipe2(to_child, O_CLOEXEC) != 0)
    throw std::runtime_error("pipe2: " + std::string(std::strerror(errno)));
  if (::pipe2(from_child, O_CLOEXEC) != 0) {
    ::close(to_child[0]);
    ::close(to_child[1]);
    throw std::runtime_error("pipe2: " + std::string(std::strerror(errno)));
  }
  int log = ::open(c->log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (log < 0) {
    for (int fd : {to_child[0], to_child[1], from_child[0], from_child[1]}) ::close(fd);
    throw std::runtime_error("cannot write " + c->log + ": " + std::strerror(errno));
  }
  const Time started = steady_now();
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) {
    for (int fd : {to_child[0], to_child[1], from_child[0], from_child[1], log}) ::close(fd);
    throw std::runtime_error("fork: " + std::string(std::strerror(errno)));
  }
  if (pid == 0) {
    // Only async-signal-safe calls until exec. A process group of its own, so a pause or
    // a kill reaches whatever the command starts (a wrapper script's JVM too).
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);
    ::signal(SIGPIPE, SIG_DFL);
    ::dup2(to_child[0], 0);
    ::dup2(from_child[1], 1);
    ::dup2(log, 2);
    ::execvpe(argv[0], argv.data(), environment.envp());
    const char msg[] = "lockstep: cannot execute the client command\n";
    (void)!::write(2, msg, sizeof msg - 1);
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // the child does it too: whichever runs first
  ::close(to_child[0]);
  ::close(from_child[1]);
  ::close(log);
  ::fcntl(to_child[1], F_SETFL, ::fcntl(to_child[1], F_GETFL) | O_NONBLOCK);
  ::fcntl(from_child[0], F_SETFL, ::fcntl(from_child[0], F_GETFL) | O_NONBLOCK);
  c->pid = pid;
  c->in = to_child[1];
  c->out = from_child[0];
  c->floor = started;
  c->buffer_lo = started;
  c->deadline = started + deadlines_.ready;
  c->allowed = deadlines_.ready;
  c->awaiting = "\"ready\"";
  slot = std::move(c);
  // The first clients start their workload when wait_until_started() is done.
  if (!holding_start_) record(*slot, EventKind::ClientStart, started, steady_now());
}

bool ClientCommandBackend::wait_until_started(Duration limit) {
  const Time until = steady_now() + limit;
  auto starting = [this] {
    for (auto& c : clients_)
      if (c && c->phase == Client::Phase::Starting) return true;
    return false;
  };
  while (starting() && steady_now() < until) pump(std::min<Duration>(50ms, until - steady_now()));
  holding_start_ = false;
  start_pending_ = true;  // stamped by the next poll(), on the run's clock
  return true;
}

void ClientCommandBackend::record(Client& c, EventKind kind, Time lo, Time hi, std::string detail) {
  ClientMessage m;
  m.kind = ClientMessage::Kind::Event;
  m.client = c.spec.index;
  m.event.client = c.spec.index;
  m.event.kind = kind;
  m.event.lo = lo;
  m.event.hi = hi;
  m.event.detail = std::move(detail);
  if (kind == EventKind::Acquired || kind == EventKind::ResourceRead ||
      kind == EventKind::ResourceWrite)
    m.event.token = c.token;
  out_.push_back(std::move(m));
}

void ClientCommandBackend::send(Client& c, const std::string& op) {
  if (c.reaped || c.in < 0) return;  // gone: what it wrote last is being read
  const std::string line = op + "\n";
  c.op_lo = steady_now();
  ssize_t n;
  do {
    n = ::write(c.in, line.data(), line.size());
  } while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(line.size()))
    fail(c, "cannot write " + op +
                " to its stdin: " + (n < 0 ? std::string(std::strerror(errno)) : "short write"));
}

namespace {

Duration answer_deadline(const ClientDeadlines& d, const LiveClientSpec& spec) {
  return d.answer > Duration(0) ? d.answer : std::max<Duration>(10s, 3 * spec.session_timeout);
}

}  // namespace

void ClientCommandBackend::expect(Client& c, std::string what, Duration within) {
  c.awaiting = std::move(what);
  c.allowed = within;
  c.deadline = steady_now() + within;
}

void ClientCommandBackend::begin_cycle(Client& c) {
  c.holding = c.lost = c.incremented = false;
  c.token.reset();
  const std::string op = acquire_op(c.spec.acquire_timeout);
  const Time lo = steady_now();
  send(c, op);
  if (c.phase == Client::Phase::Done) return;
  record(c, EventKind::AcquireStart, lo, steady_now());
  c.phase = Client::Phase::Acquiring;
  c.due = Time::max();
  expect(c, "answer to " + op, c.spec.acquire_timeout + answer_deadline(deadlines_, c.spec));
}

void ClientCommandBackend::begin_release(Client& c) {
  const Time lo = steady_now();
  send(c, release_op());
  if (c.phase == Client::Phase::Done) return;
  // The belief ends here at the earliest: the client reads the op after this.
  record(c, EventKind::ReleaseStart, lo, steady_now());
  c.holding = false;
  c.phase = Client::Phase::Releasing;
  c.due = Time::max();
  expect(c, "answer to " + release_op(), answer_deadline(deadlines_, c.spec));
}

void ClientCommandBackend::after_release(Client& c) {
  ++c.cycle;
  c.phase = Client::Phase::Thinking;
  c.deadline = Time::max();
  c.due = steady_now() + c.spec.think;
}

// The workload's next move once `due` has come (core/workload's run_client, with the
// critical section's read-modify-write as one `increment` op between its two halves).
void ClientCommandBackend::step(Client& c) {
  c.due = Time::max();
  switch (c.phase) {
    case Client::Phase::Holding:
      if (c.spec.resource && !c.incremented && !c.lost) {
        send(c, increment_op());
        if (c.phase == Client::Phase::Done) return;
        c.phase = Client::Phase::Incrementing;
        expect(c, "answer to " + increment_op(), answer_deadline(deadlines_, c.spec));
      } else {
        begin_release(c);
      }
      break;
    case Client::Phase::Thinking:
      if (c.cycle < c.spec.cycles) {
        begin_cycle(c);
      } else {
        const Time lo = steady_now();
        record(c, EventKind::ClientDone, lo, lo);
        send(c, quit_op());
        if (c.phase == Client::Phase::Done) return;
        ::close(c.in);  // and end of input, for a client that reads until it
        c.in = -1;
        c.phase = Client::Phase::Quitting;
        expect(c, "exit after " + quit_op(), deadlines_.exit);
      }
      break;
    default:
      break;
  }
}

void ClientCommandBackend::on_line(Client& c, std::string_view line, Time lo, Time hi) {
  ++c.lines;
  auto parsed = parse_client_line(line);
  if (auto* why = std::get_if<std::string>(&parsed)) {
    fail(c, "protocol error on stdout line " + std::to_string(c.lines) + ": " + *why + ": " +
                quote_line(line));
    return;
  }
  const ClientLine& l = std::get<ClientLine>(parsed);
  using K = ClientLine::Kind;
  // An answer cannot have been written before its op was: its history event then also
  // sorts after the op's (AcquireStart before Acquired, ReleaseStart before Released).
  if (l.kind != K::Lost && l.kind != K::Session) lo = std::max(lo, c.op_lo);
  using P = Client::Phase;
  auto unexpected = [&] {
    fail(c,
         "protocol error on stdout line " + std::to_string(c.lines) + ": \"" +
             std::string(line_kind_name(l.kind)) + "\" while " +
             (c.deadline == Time::max() ? "no answer is due" : "lockstep waits for " + c.awaiting) +
             ": " + quote_line(line));
  };
  switch (l.kind) {
    case K::Ready:
    case K::Session:
      if (l.kind == K::Ready && c.phase != P::Starting) return unexpected();
      if (l.session) {
        ClientMessage m;
        m.kind = ClientMessage::Kind::Session;
        m.client = c.spec.index;
        m.store = 0;
        m.session_id = *l.session;
        m.passwd = l.passwd;
        out_.push_back(std::move(m));
      }
      if (l.kind == K::Ready) {
        c.phase = P::Thinking;  // the first cycle starts at once (once the run has begun)
        c.deadline = Time::max();
        c.due = steady_now();
      }
      return;
    case K::Acquired:
      if (c.phase != P::Acquiring) return unexpected();
      c.token = l.token;
      // The belief starts when the line is read (hi): the client believed by then.
      record(c, EventKind::Acquired, lo, hi);
      c.holding = true;
      c.phase = P::Holding;
      c.deadline = Time::max();
      c.due = steady_now() + (c.spec.resource ? c.spec.hold / 2 : c.spec.hold);
      return;
    case K::AcquireFailed:
      if (c.phase != P::Acquiring) return unexpected();
      record(c, EventKind::AcquireFailed, lo, hi, l.error.empty() ? "acquire_failed" : l.error);
      return after_release(c);
    case K::Lost:
      // Unprompted, at any time; it ends the belief as soon as it can have been written.
      record(c, EventKind::LostObserved, lo, hi, l.error);
      if (!c.holding) return;
      c.lost = true;
      if (c.phase == P::Holding) begin_release(c);  // as core/workload: stop holding
      return;
    case K::Incremented: {
      if (c.phase != P::Incrementing) return unexpected();
      record(c, EventKind::ResourceRead, lo, hi);
      out_.back().event.value = l.read;
      const WriteOutcome outcome = l.accepted ? WriteOutcome::Accepted : WriteOutcome::Refused;
      record(c, EventKind::ResourceWrite, lo, hi,
             write_detail(outcome, l.zxid, l.accepted ? "" : "the client says not accepted"));
      HistoryEvent& w = out_.back().event;
      w.value = l.wrote;
      w.outcome = outcome;
      w.zxid = l.zxid;
      if (l.accepted && !l.zxid) writes_ordered_ = false;
      break;
    }
    case K::Released:
      if (c.phase != P::Releasing) return unexpected();
      record(c, EventKind::Released, lo, hi);
      return after_release(c);
    case K::Error:
      if (c.phase == P::Acquiring) {
        record(c, EventKind::AcquireFailed, lo, hi, "error: " + l.error);
        return after_release(c);
      }
      if (c.phase == P::Releasing) {
        record(c, EventKind::Released, lo, hi, "error: " + l.error);
        return after_release(c);
      }
      if (c.phase == P::Incrementing) {
        // Whether its write went out is not known: the counter may or may not show it.
        record(c, EventKind::ResourceWrite, lo, hi,
               write_detail(WriteOutcome::Unknown, std::nullopt, l.error));
        out_.back().event.outcome = WriteOutcome::Unknown;
        break;
      }
      record(c, EventKind::Note, lo, hi, "client error: " + l.error);
      return;
  }
  // An increment was answered: the second half of the hold, or release at once if the
  // lock was lost meanwhile.
  c.incremented = true;
  c.phase = P::Holding;
  c.deadline = Time::max();
  if (c.lost)
    begin_release(c);
  else
    c.due = steady_now() + c.spec.hold / 2;
}

// Reads what its stdout has. A byte not read now was written after the moment just before
// the read that found the pipe empty: that moment is the next line's `lo`.
void ClientCommandBackend::read_stdout(Client& c) {
  char buf[65536];
  for (;;) {
    const Time before = steady_now();
    ssize_t n = ::read(c.out, buf, sizeof buf);
    if (n > 0) {
      if (c.buffer.empty()) c.buffer_lo = c.floor;
      c.buffer.append(buf, static_cast<size_t>(n));
      const Time hi = steady_now();
      size_t start = 0;
      for (size_t nl; (nl = c.buffer.find('\n', start)) != std::string::npos; start = nl + 1) {
        on_line(c, std::string_view(c.buffer).substr(start, nl - start), c.buffer_lo, hi);
        if (c.out < 0) return;  // failed on that line
      }
      c.buffer.erase(0, start);
      if (c.buffer.size() > 65536) {
        fail(c, "protocol error: a stdout line longer than 64 KiB: " + quote_line(c.buffer));
        return;
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      c.floor = before;
      return;
    }
    // End of file (or an error): it closed its stdout, so it is exiting.
    if (!c.buffer.empty())
      on_line(c, c.buffer, c.buffer_lo, steady_now());  // a last line without its newline
    c.buffer.clear();
    if (c.out >= 0) {
      ::close(c.out);
      c.out = -1;
    }
    return;
  }
}

void ClientCommandBackend::kill_group(Client& c) {
  if (c.reaped || c.pid <= 0) return;
  ::kill(-c.pid, SIGKILL);
  ::kill(c.pid, SIGKILL);
}

// lockstep gives up on the client: it is killed now and reported as exited, with why.
void ClientCommandBackend::fail(Client& c, const std::string& why) {
  if (c.phase == Client::Phase::Done) return;
  c.phase = Client::Phase::Done;
  c.failure = why;
  ClientMessage m;
  m.kind = ClientMessage::Kind::Error;
  m.client = c.spec.index;
  m.text = why + " (its stderr: " + c.log + ")";
  out_.push_back(std::move(m));
  kill_group(c);
  if (c.out >= 0) {
    ::close(c.out);
    c.out = -1;
  }
  if (c.in >= 0) {
    ::close(c.in);
    c.in = -1;
  }
  c.due = c.deadline = Time::max();
}

// Reaps it once it has exited; the whole group goes with it (before the reap, while its
// pid cannot have been reused).
void ClientCommandBackend::check_exit(Client& c) {
  if (c.reaped || c.pid <= 0) return;
  siginfo_t info{};
  if (::waitid(P_PID, static_cast<id_t>(c.pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0 ||
      info.si_pid != c.pid)
    return;
  ::kill(-c.pid, SIGKILL);
  int status = 0;
  while (::waitpid(c.pid, &status, 0) < 0 && errno == EINTR) {
  }
  c.reaped = true;
  if (c.out >= 0) {
    read_stdout(c);  // what it wrote before it went
    if (c.out >= 0) ::close(c.out);
    c.out = -1;
  }
  if (c.in >= 0) ::close(c.in);
  c.in = -1;
  if (c.silent_exit) return;
  ClientMessage m;
  m.kind = ClientMessage::Kind::Exited;
  m.client = c.spec.index;
  const bool quitting = c.phase == Client::Phase::Quitting;
  if (!c.failure.empty()) {
    m.text = "killed by lockstep: " + c.failure;
  } else if (WIFEXITED(status)) {
    m.text = "exit status " + std::to_string(WEXITSTATUS(status));
    m.clean = quitting && WEXITSTATUS(status) == 0;
  } else if (WIFSIGNALED(status)) {
    m.text = "killed by signal " + std::to_string(WTERMSIG(status));
  }
  if (!quitting && c.failure.empty()) m.text += "; its stderr: " + c.log;
  c.phase = Client::Phase::Done;
  c.due = c.deadline = Time::max();
  out_.push_back(std::move(m));
}

std::vector<ClientMessage> ClientCommandBackend::poll(Duration wait) {
  if (start_pending_) {
    // Every first client starts now, ahead of whatever it said or did while starting.
    start_pending_ = false;
    std::vector<ClientMessage> held;
    held.swap(out_);
    const Time now = steady_now();
    for (auto& c : clients_)
      if (c) record(*c, EventKind::ClientStart, now, now);
    for (auto& m : held) out_.push_back(std::move(m));
  }
  pump(wait);
  std::vector<ClientMessage> out;
  out.swap(out_);
  return out;
}

void ClientCommandBackend::pump(Duration wait) {
  // The next timer of a client that can act.
  Time next = steady_now() + wait;
  for (auto& c : clients_)
    if (c && !c->reaped && !c->suspended)
      next = std::min({next, holding_start_ ? Time::max() : c->due, c->deadline});
  std::vector<pollfd> fds;
  std::vector<Client*> who;
  for (auto& c : clients_) {
    if (!c || c->out < 0) continue;
    fds.push_back({c->out, POLLIN, 0});
    who.push_back(c.get());
  }
  const Time before = steady_now();
  const int ms =
      out_.empty() || holding_start_
          ? static_cast<int>(std::clamp<int64_t>(
                std::chrono::duration_cast<std::chrono::milliseconds>(next - before).count(), 0,
                INT_MAX))  // poll's int: a negative one (wrapped) would wait for ever
          : 0;
  const int ready = ::poll(fds.data(), fds.size(), ms);
  for (size_t i = 0; i < fds.size(); ++i) {
    Client& c = *who[i];
    if (ready > 0 && fds[i].revents) {
      read_stdout(c);
    } else if (ready >= 0) {
      // Nothing written before the poll began (it would have been there to see).
      c.floor = std::max(c.floor, before);
    }
  }
  const Time now = steady_now();
  for (auto& c : clients_) {
    if (!c || c->reaped) continue;
    if (!c->suspended && c->phase != Client::Phase::Done) {
      if (c->deadline <= now) {
        fail(*c, "no " + c->awaiting + " within " + format_duration(c->allowed));
      } else if (c->due <= now && !holding_start_) {
        step(*c);
      }
    }
    if (c->out < 0 || c->phase == Client::Phase::Done) check_exit(*c);
  }
}

bool ClientCommandBackend::running(int index) const {
  Client* c = client(index);
  return c && !c->reaped && c->pid > 0;
}

bool ClientCommandBackend::suspend(int index) {
  Client* c = client(index);
  if (!c || c->reaped || ::kill(-c->pid, SIGSTOP) != 0) return false;
  c->suspended = true;
  c->suspended_at = steady_now();
  return true;
}

bool ClientCommandBackend::resume(int index) {
  Client* c = client(index);
  if (!c || c->reaped || !c->suspended) return false;
  if (::kill(-c->pid, SIGCONT) != 0) return false;
  c->suspended = false;
  // A stopped client cannot answer: its deadline does not run while it is stopped.
  const Duration stopped = steady_now() - c->suspended_at;
  if (c->deadline != Time::max()) c->deadline += stopped;
  return true;
}

std::string ClientCommandBackend::crash(int index) {
  Client* c = client(index);
  if (!c || c->reaped) return "not running";
  c->silent_exit = true;
  kill_group(*c);
  int status = 0;
  while (::waitpid(c->pid, &status, 0) < 0 && errno == EINTR) {
  }
  c->reaped = true;
  // What it wrote before it died happened: keep it.
  if (c->out >= 0) {
    read_stdout(*c);
    if (c->out >= 0) ::close(c->out);
    c->out = -1;
  }
  if (c->in >= 0) ::close(c->in);
  c->in = -1;
  c->phase = Client::Phase::Done;
  return "";
}

Error ClientCommandBackend::expire(const SessionRef& s) {
  // ZooKeeper ends a session from outside only for a handle that knows its password.
  if (s.passwd.empty()) return Error::BadArguments;
  return expire_session(connect_, ZkClientId{s.id, s.passwd});
}

ZkNodeOutcome ClientCommandBackend::kill_leader() { return control_.kill_leader(); }

ZkNodeOutcome ClientCommandBackend::restart_node(const std::string& node) {
  return control_.restart(node);
}

void ClientCommandBackend::kill_all() {
  for (auto& c : clients_)
    if (c && !c->reaped) crash(c->spec.index);
}

}  // namespace lockstep::real::blackbox
