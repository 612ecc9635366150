#include "real/live_client.h"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "core/lock.h"
#include "real/live_env.h"
#include "real/zk_store.h"

namespace lockstep::real {

namespace {

// --- the spec on the command line --------------------------------------------------------

std::string ns_text(Duration d) { return std::to_string(d.count()); }

int64_t parse_int(const std::string& flag, const std::string& text) {
  int64_t v = 0;
  auto r = std::from_chars(text.data(), text.data() + text.size(), v);
  if (r.ec != std::errc() || r.ptr != text.data() + text.size())
    throw std::invalid_argument(flag + ": \"" + text + "\" is not an integer");
  return v;
}

// --- the wire ------------------------------------------------------------------------------

// Fields are separated by single spaces; the last one (free text) escapes \, newline,
// carriage return and tab.
std::string escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out += s[i];
      continue;
    }
    char c = s[++i];
    out += c == 'n' ? '\n' : c == 'r' ? '\r' : c == 't' ? '\t' : c;
  }
  return out;
}

std::string hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::optional<std::string> unhex(std::string_view text) {
  if (text == "-") return std::string();
  if (text.size() % 2) return std::nullopt;
  std::string out;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; i < text.size(); i += 2) {
    int a = nibble(text[i]), b = nibble(text[i + 1]);
    if (a < 0 || b < 0) return std::nullopt;
    out += static_cast<char>(a * 16 + b);
  }
  return out;
}

// Splits off the first `n` space-separated fields; the rest of the line is the last.
bool split_fields(std::string_view line, size_t n, std::vector<std::string_view>& out) {
  out.clear();
  for (size_t i = 0; i < n; ++i) {
    size_t sp = line.find(' ');
    if (sp == std::string_view::npos) {
      if (i + 1 != n) return false;
      out.push_back(line);
      out.emplace_back();
      return true;
    }
    out.push_back(line.substr(0, sp));
    line.remove_prefix(sp + 1);
  }
  out.push_back(line);
  return true;
}

template <class T>
bool number(std::string_view s, T& out) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// --- the client's stores: every session reported, every request counted ------------------

struct Counter {
  int64_t requests = 0;
};

// A Session that forwards everything and counts the requests.
class CountingSession final : public Session {
 public:
  CountingSession(std::shared_ptr<Session> inner, std::shared_ptr<Counter> counter)
      : inner_(std::move(inner)), counter_(std::move(counter)) {}

  Future<CreateReply> create(const std::string& path, const std::string& data, CreateMode mode,
                             Duration ttl) override {
    ++counter_->requests;
    return inner_->create(path, data, mode, ttl);
  }
  Future<Error> remove(const std::string& path, int32_t version) override {
    ++counter_->requests;
    return inner_->remove(path, version);
  }
  Future<GetReply> get(const std::string& path, bool watch) override {
    ++counter_->requests;
    return inner_->get(path, watch);
  }
  Future<ExistsReply> exists(const std::string& path, bool watch) override {
    ++counter_->requests;
    return inner_->exists(path, watch);
  }
  Future<ChildrenReply> children(const std::string& path, bool watch) override {
    ++counter_->requests;
    return inner_->children(path, watch);
  }
  Future<SetReply> set(const std::string& path, const std::string& data, int32_t version) override {
    ++counter_->requests;
    return inner_->set(path, data, version);
  }
  Future<MultiReply> multi(const std::vector<Op>& ops) override {
    ++counter_->requests;
    return inner_->multi(ops);
  }
  Future<Unit> close() override { return inner_->close(); }
  SessionState state() const override { return inner_->state(); }
  int64_t id() const override { return inner_->id(); }
  Duration timeout() const override { return inner_->timeout(); }
  Future<SessionEvent> next_event() override { return inner_->next_event(); }
  Future<SessionState> ended() override { return inner_->ended(); }

 private:
  std::shared_ptr<Session> inner_;
  std::shared_ptr<Counter> counter_;
};

// A Store that reports every session it opens (so the coordinator can expire it from
// outside) and hands out counting sessions.
class ObservedStore final : public Store {
 public:
  ObservedStore(Store& inner, int index, const MessageSink& sink, int client,
                std::shared_ptr<Counter> counter)
      : inner_(inner), index_(index), sink_(sink), client_(client), counter_(std::move(counter)) {}

  Future<ConnectReply> connect(Env& env, Duration session_timeout) override {
    Promise<ConnectReply> out;
    env.spawn(relay(inner_.connect(env, session_timeout), out));
    return out.future();
  }
  std::string describe() const override { return inner_.describe(); }

 private:
  Task<void> relay(Future<ConnectReply> connecting, Promise<ConnectReply> out) {
    ConnectReply reply = co_await connecting;
    if (reply.err == Error::Ok && reply.session) {
      ClientMessage m;
      m.kind = ClientMessage::Kind::Session;
      m.client = client_;
      m.store = index_;
      m.session_id = reply.session->id();
      if (auto* zk = dynamic_cast<ZkSession*>(reply.session.get()))
        m.passwd = zk->client_id().passwd;
      sink_(m);
      reply.session = std::make_shared<CountingSession>(std::move(reply.session), counter_);
    }
    out.set(std::move(reply));
  }

  Store& inner_;
  int index_;
  const MessageSink& sink_;
  int client_;
  std::shared_ptr<Counter> counter_;
};

// Stamps each event with the machine's steady clock (never a faked one) and hands it on.
class StreamRecorder final : public Recorder {
 public:
  explicit StreamRecorder(const MessageSink& sink) : sink_(sink) {}
  void record(HistoryEvent e) override {
    e.lo = true_steady_now();
    ClientMessage m;
    m.kind = ClientMessage::Kind::Event;
    m.client = e.client;
    m.event = std::move(e);
    m.event.hi = true_steady_now();
    sink_(m);
  }
  std::optional<Time> stamp() override { return true_steady_now(); }

 private:
  const MessageSink& sink_;
};

}  // namespace

std::vector<std::string> encode_client_spec(const LiveClientSpec& s) {
  std::vector<std::string> w = {"--index",
                                std::to_string(s.index),
                                "--algo",
                                s.algorithm,
                                "--lock-path",
                                s.lock_path,
                                "--cycles",
                                std::to_string(s.cycles),
                                "--hold-ns",
                                ns_text(s.hold),
                                "--think-ns",
                                ns_text(s.think),
                                "--acquire-timeout-ns",
                                ns_text(s.acquire_timeout),
                                "--heed-lost",
                                s.heed_lost ? "yes" : "no",
                                "--session-timeout-ns",
                                ns_text(s.session_timeout),
                                "--resource",
                                !s.resource ? "none"
                                : s.fenced  ? "fenced"
                                            : "unfenced",
                                "--resource-store",
                                s.separate_resource ? "separate" : "same",
                                "--resource-session-timeout-ns",
                                ns_text(s.resource_session_timeout),
                                "--fencing",
                                s.fencing.empty() ? "own" : s.fencing,
                                "--resource-connect",
                                s.resource_connect.empty() ? "-" : s.resource_connect};
  for (const auto& [k, v] : s.options) {
    w.push_back("--option");
    w.push_back(k + "=" + v);
  }
  for (const auto& c : s.connect) {
    w.push_back("--connect");
    w.push_back(c);
  }
  return w;
}

LiveClientSpec decode_client_spec(const std::vector<std::string>& words) {
  LiveClientSpec s;
  if (words.size() % 2) throw std::invalid_argument("live-client: odd number of words");
  for (size_t i = 0; i < words.size(); i += 2) {
    const std::string& flag = words[i];
    const std::string& v = words[i + 1];
    auto ns = [&] { return Duration(parse_int(flag, v)); };
    if (flag == "--index") {
      s.index = static_cast<int>(parse_int(flag, v));
    } else if (flag == "--algo") {
      s.algorithm = v;
    } else if (flag == "--lock-path") {
      s.lock_path = v;
    } else if (flag == "--cycles") {
      s.cycles = static_cast<int>(parse_int(flag, v));
    } else if (flag == "--hold-ns") {
      s.hold = ns();
    } else if (flag == "--think-ns") {
      s.think = ns();
    } else if (flag == "--acquire-timeout-ns") {
      s.acquire_timeout = ns();
    } else if (flag == "--heed-lost") {
      if (v != "yes" && v != "no") throw std::invalid_argument("--heed-lost: \"" + v + "\"");
      s.heed_lost = v == "yes";
    } else if (flag == "--session-timeout-ns") {
      s.session_timeout = ns();
    } else if (flag == "--resource") {
      if (v != "none" && v != "fenced" && v != "unfenced")
        throw std::invalid_argument("--resource: \"" + v + "\"");
      s.resource = v != "none";
      s.fenced = v == "fenced";
    } else if (flag == "--resource-store") {
      if (v != "same" && v != "separate")
        throw std::invalid_argument("--resource-store: \"" + v + "\"");
      s.separate_resource = v == "separate";
    } else if (flag == "--resource-session-timeout-ns") {
      s.resource_session_timeout = ns();
    } else if (flag == "--fencing") {
      s.fencing = v == "own" ? "" : v;
    } else if (flag == "--resource-connect") {
      s.resource_connect = v == "-" ? "" : v;
    } else if (flag == "--option") {
      auto eq = v.find('=');
      if (eq == std::string::npos) throw std::invalid_argument("--option: \"" + v + "\"");
      s.options[v.substr(0, eq)] = v.substr(eq + 1);
    } else if (flag == "--connect") {
      s.connect.push_back(v);
    } else {
      throw std::invalid_argument("live-client: unknown word \"" + flag + "\"");
    }
  }
  return s;
}

std::string encode_message(const ClientMessage& m) {
  switch (m.kind) {
    case ClientMessage::Kind::Event: {
      const HistoryEvent& e = m.event;
      std::string s = "E " + std::to_string(e.lo.count()) + " " + std::to_string(e.hi.count()) +
                      " " + std::to_string(static_cast<int>(e.kind)) + " " +
                      (e.token ? std::to_string(*e.token) : "-") + " " +
                      (e.value ? std::to_string(*e.value) : "-") + " " +
                      (e.outcome ? std::string(write_outcome_name(*e.outcome)) : "-") + " " +
                      (e.zxid ? std::to_string(*e.zxid) : "-") + " " +
                      (e.issued ? std::to_string(e.issued->count()) : "-") + " " + escape(e.detail);
      return s;
    }
    case ClientMessage::Kind::Session:
      return "S " + std::to_string(m.store) + " " + std::to_string(m.session_id) + " " +
             (m.passwd.empty() ? "-" : hex(m.passwd));
    case ClientMessage::Kind::Stats:
      return "R " + std::to_string(m.requests);
    case ClientMessage::Kind::Error:
      return "X " + escape(m.text);
    case ClientMessage::Kind::Exited:
      return std::string("Q ") + (m.clean ? "1 " : "0 ") + escape(m.text);
  }
  return "";
}

std::optional<ClientMessage> decode_message(std::string_view line, int client) {
  if (line.size() < 2 || line[1] != ' ') return std::nullopt;
  ClientMessage m;
  m.client = client;
  std::vector<std::string_view> f;
  const std::string_view body = line.substr(2);
  switch (line[0]) {
    case 'E': {
      if (!split_fields(body, 8, f)) return std::nullopt;
      m.kind = ClientMessage::Kind::Event;
      HistoryEvent& e = m.event;
      e.client = client;
      int64_t lo = 0, hi = 0;
      int kind = 0;
      if (!number(f[0], lo) || !number(f[1], hi) || !number(f[2], kind)) return std::nullopt;
      if (kind < 0 || kind > static_cast<int>(EventKind::Renewed)) return std::nullopt;
      e.lo = Time(lo);
      e.hi = Time(hi);
      e.kind = static_cast<EventKind>(kind);
      if (f[3] != "-") {
        uint64_t t = 0;
        if (!number(f[3], t)) return std::nullopt;
        e.token = t;
      }
      if (f[4] != "-") {
        int64_t v = 0;
        if (!number(f[4], v)) return std::nullopt;
        e.value = v;
      }
      if (f[5] != "-") {
        e.outcome = parse_write_outcome(f[5]);
        if (!e.outcome) return std::nullopt;
      }
      if (f[6] != "-") {
        int64_t z = 0;
        if (!number(f[6], z)) return std::nullopt;
        e.zxid = z;
      }
      if (f[7] != "-") {
        int64_t t = 0;
        if (!number(f[7], t)) return std::nullopt;
        e.issued = Time(t);
      }
      e.detail = unescape(f[8]);
      return m;
    }
    case 'S': {
      if (!split_fields(body, 2, f)) return std::nullopt;
      m.kind = ClientMessage::Kind::Session;
      if (!number(f[0], m.store) || !number(f[1], m.session_id)) return std::nullopt;
      auto pw = unhex(f[2]);
      if (!pw) return std::nullopt;
      m.passwd = *pw;
      return m;
    }
    case 'R':
      m.kind = ClientMessage::Kind::Stats;
      if (!number(body, m.requests)) return std::nullopt;
      return m;
    case 'X':
      m.kind = ClientMessage::Kind::Error;
      m.text = unescape(body);
      return m;
    case 'Q':
      if (!split_fields(body, 1, f)) return std::nullopt;
      m.kind = ClientMessage::Kind::Exited;
      m.clean = f[0] == "1";
      m.text = unescape(f[1]);
      return m;
    default:
      return std::nullopt;
  }
}

std::string run_live_client(EventLoop& loop, const LiveClientSpec& spec,
                            const std::vector<Store*>& stores, Store* resource_store,
                            const MessageSink& sink, SharedRegistry* shared) {
  const AlgorithmInfo* algo = nullptr;
  OptionValues options;
  try {
    algo = &resolve_algorithm(spec.algorithm);
    options = algo->validate(Options(spec.options));
  } catch (const UnknownAlgorithm& e) {
    return e.what();
  } catch (const OptionError& e) {
    return "options." + e.key + ": " + e.problem;
  }
  auto fencing = parse_fencing_source(spec.fencing);
  if (!fencing) return "unknown fencing source \"" + spec.fencing + "\"";
  if (stores.empty()) return "no store";

  auto counter = std::make_shared<Counter>();
  std::vector<std::unique_ptr<ObservedStore>> observed;
  for (size_t i = 0; i < stores.size(); ++i)
    observed.push_back(std::make_unique<ObservedStore>(*stores[i], static_cast<int>(i), sink,
                                                       spec.index, counter));
  ObservedStore observed_resource(resource_store ? *resource_store : *stores[0], -1, sink,
                                  spec.index, counter);

  WorkloadConfig cfg;
  cfg.algorithm = algo;
  cfg.options = options;
  cfg.lock_path = spec.lock_path;
  cfg.cycles = spec.cycles;
  cfg.hold = spec.hold;
  cfg.think = spec.think;
  cfg.acquire_timeout = spec.acquire_timeout;
  cfg.heed_lost = spec.heed_lost;
  cfg.session_timeout = spec.session_timeout;
  for (auto& s : observed) cfg.stores.push_back(s.get());
  cfg.resource.enabled = spec.resource;
  cfg.resource.fenced = spec.fenced;
  cfg.resource.separate_store = spec.separate_resource;
  cfg.resource_store = &observed_resource;
  cfg.resource_session_timeout = spec.resource_session_timeout;
  cfg.fencing = *fencing;
  cfg.shared = shared;

  StreamRecorder recorder(sink);
  std::string failure;
  {
    LiveEnv env(loop, spec.index);
    try {
      // The coordinator ends a run that overstays its duration; no limit of our own.
      run_task(env, run_client(env, recorder, std::move(cfg)), std::chrono::hours(24 * 365));
    } catch (const TaskTimeout&) {
      failure = "stopped before the workload finished";
    } catch (const std::exception& e) {
      failure = std::string("the workload threw: ") + e.what();
    }
  }
  ClientMessage stats;
  stats.kind = ClientMessage::Kind::Stats;
  stats.client = spec.index;
  stats.requests = counter->requests;
  sink(stats);
  return failure;
}

int live_client_process(const LiveClientSpec& spec, int fd) {
  std::mutex mu;
  bool broken = false;
  MessageSink sink = [&](const ClientMessage& m) {
    std::string line = encode_message(m) + "\n";
    std::lock_guard lock(mu);
    if (broken) return;
    const char* p = line.data();
    size_t left = line.size();
    while (left > 0) {
      ssize_t n = ::write(fd, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        broken = true;  // the coordinator is gone; nothing to report to
        return;
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
  };
  auto fail = [&](const std::string& why) {
    ClientMessage m;
    m.kind = ClientMessage::Kind::Error;
    m.client = spec.index;
    m.text = why;
    sink(m);
    return 3;
  };
  if (spec.connect.empty()) return fail("no store to connect to");
  for (const auto& c : spec.connect)
    if (auto bad = ZkStore::validate(c); !bad.empty()) return fail(c + ": " + bad);

  // The run's identity, if the coordinator was given one (see real/zk_auth.h).
  ZkOptions options;
  try {
    options.auth = zk_auth_from_environment();
  } catch (const std::invalid_argument& e) {
    return fail(e.what());
  }
  // One ZkStore per distinct connect string; the sessions come from it.
  std::vector<std::unique_ptr<ZkStore>> owned;
  auto store_for = [&](const std::string& cs) -> ZkStore* {
    for (auto& s : owned)
      if (s->connect_string() == cs) return s.get();
    owned.push_back(std::make_unique<ZkStore>(cs, options));
    return owned.back().get();
  };
  std::vector<Store*> stores;
  for (const auto& c : spec.connect) stores.push_back(store_for(c));
  Store* resource = spec.resource_connect.empty() ? nullptr : store_for(spec.resource_connect);

  SharedRegistry registry;
  EventLoop loop;
  std::string failure = run_live_client(loop, spec, stores, resource, sink, &registry);
  if (!failure.empty()) return fail(failure);
  return 0;
}

}  // namespace lockstep::real
