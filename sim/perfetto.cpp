#include "sim/perfetto.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <queue>
#include <set>
#include <string_view>
#include <utility>
#include <vector>

#include "core/check/checker.h"
#include "core/history.h"
#include "core/time.h"

namespace lockstep::sim {

namespace {

// Keys keep the order they were written in, so the file reads naturally and is stable.
using Json = nlohmann::ordered_json;

constexpr int kPid = 1;
constexpr int kServerTid = 0;

int client_tid(int client) { return client + 1; }

// Microseconds: the nearest double to ns / 1000, which prints as the exact decimal.
double micros(Duration d) { return static_cast<double>(d.count()) / 1000.0; }

struct Slice {
  Time start{0};
  Time end{0};
  std::string name;
  std::string cat;
  std::string cname;  // Chrome colour name, or empty
  Json args = Json::object();
  int rank = 1;  // 0: the lock state, the track's top level; 1: nested state
};

struct Instant {
  Time t{0};
  std::string name;
  std::string cat;
  Json args = Json::object();
};

struct Track {
  int tid = 0;
  std::string name;
  int sort_index = 0;
  std::vector<Slice> slices;
  std::vector<Instant> instants;
};

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// A trace line written by a server: the one server, one of N stores ("store K"), or the
// separate resource's server. Checked on the raw line, as most lines are not parsed.
bool from_a_server(std::string_view line) {
  constexpr std::string_view kSrc = "\"src\":\"";
  const size_t at = line.find(kSrc);
  if (at == std::string_view::npos) return false;
  const std::string_view src = line.substr(at + kSrc.size());
  return starts_with(src, "server\"") || starts_with(src, "store ") ||
         starts_with(src, "resource\"");
}

// A complete ("X") event must nest inside the one open around it or follow it, or the
// viewers drop or misdraw it. Slices are taken longest first at each start; one that
// would outlast the slice around it is cut where that slice ends, and the rest goes on
// as a "continued" piece.
std::vector<Slice> nest(std::vector<Slice> in) {
  struct Keyed {
    Slice s;
    uint64_t seq;
  };
  auto later = [](const Keyed& a, const Keyed& b) {
    if (a.s.start != b.s.start) return a.s.start > b.s.start;
    if (a.s.end != b.s.end) return a.s.end < b.s.end;
    if (a.s.rank != b.s.rank) return a.s.rank > b.s.rank;
    return a.seq > b.seq;
  };
  std::priority_queue<Keyed, std::vector<Keyed>, decltype(later)> queue(later);
  uint64_t seq = 0;
  for (auto& s : in) queue.push(Keyed{std::move(s), seq++});
  std::vector<Time> open_ends;  // non-increasing from bottom to top
  std::vector<Slice> out;
  while (!queue.empty()) {
    Keyed k = queue.top();
    queue.pop();
    while (!open_ends.empty() && open_ends.back() <= k.s.start) open_ends.pop_back();
    if (!open_ends.empty() && open_ends.back() < k.s.end) {
      Slice rest = k.s;
      rest.start = open_ends.back();
      rest.args["continued"] = true;
      k.s.end = open_ends.back();
      queue.push(Keyed{std::move(rest), seq++});
    }
    open_ends.push_back(k.s.end);
    out.push_back(std::move(k.s));
  }
  return out;
}

// A client's track: the lock state (holding, waiting) stays whole at the top level; the
// other states are cut at its boundaries so that each piece nests in one of them.
std::vector<Slice> nest_client(std::vector<Slice> slices) {
  std::vector<Time> bounds;
  for (const auto& s : slices) {
    if (s.rank != 0) continue;
    bounds.push_back(s.start);
    bounds.push_back(s.end);
  }
  std::sort(bounds.begin(), bounds.end());
  bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());
  std::vector<Slice> cut;
  for (auto& s : slices) {
    if (s.rank == 0) {
      cut.push_back(std::move(s));
      continue;
    }
    auto it = std::upper_bound(bounds.begin(), bounds.end(), s.start);
    bool first = true;
    while (it != bounds.end() && *it < s.end) {
      Slice piece = s;
      piece.end = *it;
      if (!first) piece.args["continued"] = true;
      cut.push_back(std::move(piece));
      s.start = *it;
      first = false;
      ++it;
    }
    if (!first) s.args["continued"] = true;
    cut.push_back(std::move(s));
  }
  return nest(std::move(cut));
}

std::string holder_name(const BeliefInterval& b) {
  std::string s = "client " + std::to_string(b.client);
  if (b.token) s += " (token " + std::to_string(*b.token) + ")";
  return s;
}

// " for 2s" at the end of a fault's detail (or before a parenthesis): its length.
std::optional<Duration> fault_length(const std::string& detail, std::string* label) {
  size_t at = detail.rfind(" for ");
  if (at == std::string::npos) return std::nullopt;
  size_t from = at + 5;
  size_t to = detail.find(' ', from);
  auto d = parse_duration(std::string_view(detail).substr(
      from, to == std::string::npos ? std::string::npos : to - from));
  if (d && label) {
    // The fault's name without its numbers: "loss p=0.170" -> "loss".
    label->clear();
    size_t pos = 0;
    while (pos < at) {
      size_t space = detail.find(' ', pos);
      if (space == std::string::npos || space > at) space = at;
      std::string word = detail.substr(pos, space - pos);
      if (word.find_first_of("0123456789") != std::string::npos) break;
      if (!label->empty()) *label += ' ';
      if (!word.empty() && word.back() == ':') word.pop_back();
      *label += word;
      pos = space + 1;
    }
    if (label->empty()) *label = "fault";
  }
  return d;
}

// Opens and closes one kind of state on one track.
class StateSlot {
 public:
  StateSlot(std::string name, std::string cat, std::string cname = "")
      : name_(std::move(name)), cat_(std::move(cat)), cname_(std::move(cname)) {}
  bool open() const { return open_.has_value(); }
  void begin(Time t, Json args = Json::object()) {
    if (open_) return;  // already in this state: the first start stands
    Slice s;
    s.start = t;
    s.name = name_;
    s.cat = cat_;
    s.cname = cname_;
    s.args = std::move(args);
    open_ = std::move(s);
  }
  void end(Time t, std::string_view why, std::vector<Slice>& out, int rank = 1) {
    if (!open_) return;
    open_->end = std::max(t, open_->start);
    open_->rank = rank;
    if (!why.empty()) open_->args["ended by"] = std::string(why);
    out.push_back(std::move(*open_));
    open_.reset();
  }

 private:
  std::string name_, cat_, cname_;
  std::optional<Slice> open_;
};

struct ClientState {
  StateSlot waiting{"waiting", "lock", "grey"};
  StateSlot paused{"paused", "fault", "yellow"};
  StateSlot down{"down (crashed)", "fault", "black"};
  StateSlot suspended{"session suspended", "session", "olive"};
  StateSlot partitioned{"partitioned", "fault", "yellow"};
};

Json slice_event(const Slice& s, int tid) {
  Json e;
  e["name"] = s.name;
  e["cat"] = s.cat;
  e["ph"] = "X";
  e["ts"] = micros(s.start);
  e["dur"] = micros(s.end - s.start);
  e["pid"] = kPid;
  e["tid"] = tid;
  if (!s.cname.empty()) e["cname"] = s.cname;
  if (!s.args.empty()) e["args"] = s.args;
  return e;
}

Json instant_event(const Instant& i, int tid) {
  Json e;
  e["name"] = i.name;
  e["cat"] = i.cat;
  e["ph"] = "i";
  e["s"] = "t";
  e["ts"] = micros(i.t);
  e["pid"] = kPid;
  e["tid"] = tid;
  if (!i.args.empty()) e["args"] = i.args;
  return e;
}

Json metadata(const char* name, int tid, Json args) {
  Json e;
  e["name"] = name;
  e["ph"] = "M";
  e["pid"] = kPid;
  e["tid"] = tid;
  e["args"] = std::move(args);
  return e;
}

}  // namespace

std::string perfetto_json(const Scenario& scenario, const RunResult& result) {
  const History& history = result.history;
  const auto& events = history.events();
  const Time end_of_run = std::max(history_end(history), Time(result.stats.virtual_time));

  int clients = scenario.clients;
  for (const auto& e : events) clients = std::max(clients, e.client + 1);
  const int violations_tid = clients + 1;

  Track server{kServerTid, "server", clients + 2, {}, {}};
  Track violations{violations_tid, "violations", 0, {}, {}};
  std::vector<Track> client_tracks;
  for (int i = 0; i < clients; ++i)
    client_tracks.push_back(Track{client_tid(i), "client " + std::to_string(i), i + 1, {}, {}});
  std::vector<ClientState> states(static_cast<size_t>(clients));
  StateSlot stall{"server stall", "fault", "yellow"};

  auto instant = [](Track& track, Time t, std::string name, std::string cat,
                    Json args = Json::object()) {
    track.instants.push_back(Instant{t, std::move(name), std::move(cat), std::move(args)});
  };

  // The history: the lock state, the process and session states, and the faults.
  for (const HistoryEvent& e : events) {
    const Time t = e.lo;
    if (e.client < 0) {
      if (e.kind != EventKind::Fault && e.kind != EventKind::Note) continue;
      Json args;
      args["detail"] = e.detail;
      std::string label;
      if (starts_with(e.detail, "server stall for ")) {
        stall.begin(t, args);
      } else if (e.detail == "server stall ends") {
        stall.end(t, "", server.slices);
      } else if (auto length = fault_length(e.detail, &label)) {
        // A fault on every client's connection (loss, latency): its window on this track.
        Slice s;
        s.start = t;
        s.end = t + *length;
        s.name = label + " (every client)";
        s.cat = "fault";
        s.cname = "yellow";
        s.args = args;
        server.slices.push_back(std::move(s));
      }
      instant(server, t, e.detail, e.kind == EventKind::Fault ? "fault" : "note");
      continue;
    }
    Track& track = client_tracks[static_cast<size_t>(e.client)];
    ClientState& st = states[static_cast<size_t>(e.client)];
    const std::string kind(event_kind_name(e.kind));
    switch (e.kind) {
      case EventKind::AcquireStart:
        st.waiting.end(t, "acquire_start", track.slices, 0);
        st.waiting.begin(t);
        break;
      case EventKind::Acquired:
        st.waiting.end(t, kind, track.slices, 0);
        break;
      case EventKind::AcquireFailed: {
        st.waiting.end(t, kind, track.slices, 0);
        Json args;
        args["error"] = e.detail;
        instant(track, t, "acquire failed", "lock", std::move(args));
        break;
      }
      case EventKind::LostObserved:
        instant(track, t, "lost observed", "lock");
        break;
      case EventKind::SessionChange:
        if (e.detail == "suspended") {
          st.suspended.begin(t);
        } else {
          st.suspended.end(t, e.detail, track.slices);
        }
        if (e.detail == "expired") instant(track, t, "session expired", "session");
        break;
      case EventKind::ClientCrashed:
        st.waiting.end(t, kind, track.slices, 0);
        st.suspended.end(t, kind, track.slices);
        st.partitioned.end(t, kind, track.slices);
        st.down.begin(t);
        instant(track, t, "crashed", "fault");
        break;
      case EventKind::ClientStart:
      case EventKind::ClientDone:
        st.waiting.end(t, kind, track.slices, 0);
        st.suspended.end(t, kind, track.slices);
        break;
      case EventKind::ResourceWrite:
        if (!e.accepted()) {
          Json args;
          if (e.token) args["token"] = *e.token;
          if (e.value) args["value"] = *e.value;
          instant(track, t, "write rejected", "resource", std::move(args));
        }
        break;
      case EventKind::Fault: {
        Json args;
        args["detail"] = e.detail;
        std::string label;
        if (starts_with(e.detail, "pause for ")) {
          st.paused.begin(t, args);
        } else if (e.detail == "resume") {
          st.paused.end(t, "resume", track.slices);
        } else if (e.detail == "restart") {
          st.down.end(t, "restart", track.slices);
        } else if (e.detail == "partition healed") {
          st.partitioned.end(t, "healed", track.slices);
        } else if (starts_with(e.detail, "partition ")) {
          st.partitioned.begin(t, args);
        } else if (auto length = fault_length(e.detail, &label)) {
          Slice s;
          s.start = t;
          s.end = t + *length;
          s.name = label;
          s.cat = "fault";
          s.cname = "yellow";
          s.args = args;
          track.slices.push_back(std::move(s));
        }
        instant(track, t, e.detail, "fault");
        break;
      }
      default:
        break;
    }
  }
  for (int i = 0; i < clients; ++i) {
    ClientState& st = states[static_cast<size_t>(i)];
    auto& out = client_tracks[static_cast<size_t>(i)].slices;
    st.waiting.end(end_of_run, "end of run", out, 0);
    st.paused.end(end_of_run, "end of run", out);
    st.down.end(end_of_run, "end of run", out);
    st.suspended.end(end_of_run, "end of run", out);
    st.partitioned.end(end_of_run, "end of run", out);
  }
  stall.end(end_of_run, "end of run", server.slices);

  // What the server and the client library said, from the trace when it was kept.
  for (const std::string& line : result.trace) {
    if (line.find("\"ev\":\"req\"") != std::string::npos ||
        line.find("\"ev\":\"watch\"") != std::string::npos)
      continue;
    const bool from_server = from_a_server(line);
    const bool library = line.find("\"ev\":\"connected\"") != std::string::npos ||
                         line.find("\"ev\":\"disconnected\"") != std::string::npos ||
                         line.find("\"ev\":\"reconnected\"") != std::string::npos ||
                         line.find("\"ev\":\"expired_learned\"") != std::string::npos;
    if (!from_server && !library) continue;
    Json j = Json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("t") || !j.contains("ev")) continue;
    const Time t(j["t"].get<int64_t>());
    const std::string ev = j["ev"].get<std::string>();
    Json args = j;
    args.erase("t");
    args.erase("src");
    args.erase("ev");
    if (from_server) {
      int client = j.contains("client") && j["client"].is_number() ? j["client"].get<int>() : -1;
      // With N stores (or a separate resource) all servers share the server track.
      const std::string src = j.value("src", "server");
      std::string name = src == "server" ? ev : src + ": " + ev;
      if (j.contains("why") && j["why"].is_string())
        name += " (" + j["why"].get<std::string>() + ")";
      if (client >= 0) name += " client " + std::to_string(client);
      instant(server, t, name, "server", args);
      if (ev == "session_end" && client >= 0 && client < clients && j.value("why", "") == "expired")
        instant(client_tracks[static_cast<size_t>(client)], t, "server expired session", "session",
                args);
    } else {
      const std::string src = j.value("src", "");
      if (!starts_with(src, "client ")) continue;
      int client = std::atoi(src.c_str() + 7);
      if (client < 0 || client >= clients) continue;
      instant(client_tracks[static_cast<size_t>(client)], t, ev, "session", args);
    }
  }

  // Beliefs, and where two of them overlap.
  std::vector<BeliefInterval> beliefs = belief_intervals(history);
  std::vector<std::pair<size_t, size_t>> pairs;
  for (size_t i = 0; i < beliefs.size(); ++i)
    for (size_t j = i + 1; j < beliefs.size() && beliefs[j].start < beliefs[i].end; ++j)
      if (overlap(beliefs[i], beliefs[j])) pairs.emplace_back(i, j);
  std::vector<std::vector<std::string>> overlaps_with(beliefs.size());
  for (auto [i, j] : pairs) {
    overlaps_with[i].push_back(holder_name(beliefs[j]));
    overlaps_with[j].push_back(holder_name(beliefs[i]));
  }
  for (size_t i = 0; i < beliefs.size(); ++i) {
    const BeliefInterval& b = beliefs[i];
    if (b.client < 0 || b.client >= clients) continue;
    Slice s;
    s.start = b.start;
    s.end = b.end;
    s.name = "holding lock";
    s.cat = "lock";
    s.cname = overlaps_with[i].empty() ? "good" : "terrible";
    s.rank = 0;
    if (b.token) s.args["token"] = *b.token;
    s.args["ended by"] = b.open ? std::string("end of run (still believed)")
                                : std::string(event_kind_name(*b.ended_by));
    if (!overlaps_with[i].empty()) s.args["overlaps with"] = overlaps_with[i];
    client_tracks[static_cast<size_t>(b.client)].slices.push_back(std::move(s));
  }

  // The violations track: the time during which two or more clients believed, cut where
  // the set of believers changes.
  {
    std::vector<std::pair<Time, Time>> windows;
    for (auto [i, j] : pairs)
      windows.emplace_back(std::max(beliefs[i].start, beliefs[j].start),
                           std::min(beliefs[i].end, beliefs[j].end));
    std::vector<Time> cuts;
    for (auto& [a, b] : windows) {
      cuts.push_back(a);
      cuts.push_back(b);
    }
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    std::vector<std::vector<size_t>> opening(cuts.size()), closing(cuts.size());
    auto index_of = [&](Time t) {
      return static_cast<size_t>(std::lower_bound(cuts.begin(), cuts.end(), t) - cuts.begin());
    };
    for (size_t w = 0; w < windows.size(); ++w) {
      opening[index_of(windows[w].first)].push_back(w);
      closing[index_of(windows[w].second)].push_back(w);
    }
    std::set<size_t> active;
    std::optional<Slice> current;
    std::set<size_t> current_holders;
    auto flush = [&] {
      if (current) violations.slices.push_back(std::move(*current));
      current.reset();
    };
    for (size_t k = 0; k < cuts.size(); ++k) {
      for (size_t w : closing[k]) active.erase(w);
      for (size_t w : opening[k]) active.insert(w);
      if (k + 1 >= cuts.size()) break;
      std::set<size_t> holders;
      for (size_t w : active) {
        holders.insert(pairs[w].first);
        holders.insert(pairs[w].second);
      }
      if (holders.empty()) {
        flush();
        continue;
      }
      if (current && current->end == cuts[k] && holders == current_holders) {
        current->end = cuts[k + 1];
        continue;
      }
      flush();
      Slice s;
      s.start = cuts[k];
      s.end = cuts[k + 1];
      s.name = "mutual exclusion violated";
      s.cat = "violation";
      s.cname = "terrible";
      s.rank = 0;
      Json names = Json::array();
      for (size_t h : holders) names.push_back(holder_name(beliefs[h]));
      s.args["holders"] = names;
      current = std::move(s);
      current_holders = holders;
    }
    flush();
    for (auto& s : violations.slices)
      s.args["during"] = "[" + format_instant(s.start) + ", " + format_instant(s.end) + "]";
  }

  // Assemble: metadata, then each track's slices and instants in time order.
  std::vector<Json> out;
  {
    Json name;
    name["name"] = "lockstep: " + scenario.algorithm + ", seed " + std::to_string(scenario.seed);
    out.push_back(metadata("process_name", 0, name));
  }
  std::vector<Track*> tracks{&violations};
  for (auto& t : client_tracks) tracks.push_back(&t);
  tracks.push_back(&server);
  for (Track* t : tracks) {
    Json name;
    name["name"] = t->name;
    out.push_back(metadata("thread_name", t->tid, name));
    Json sort;
    sort["sort_index"] = t->sort_index;
    out.push_back(metadata("thread_sort_index", t->tid, sort));
  }
  for (Track* t : tracks) {
    std::vector<Slice> slices = t->tid == kServerTid || t == &violations
                                    ? nest(std::move(t->slices))
                                    : nest_client(std::move(t->slices));
    for (const auto& s : slices) out.push_back(slice_event(s, t->tid));
    std::stable_sort(t->instants.begin(), t->instants.end(),
                     [](const Instant& a, const Instant& b) { return a.t < b.t; });
    for (const auto& i : t->instants) out.push_back(instant_event(i, t->tid));
  }

  Json other;
  other["algorithm"] = scenario.algorithm;
  other["seed"] = scenario.seed;
  other["clients"] = scenario.clients;
  Json verdicts = Json::array();
  for (const auto& v : result.verdicts) {
    Json j;
    j["checker"] = v.checker;
    j["ok"] = v.ok;
    j["summary"] = v.summary;
    verdicts.push_back(std::move(j));
  }
  other["verdicts"] = std::move(verdicts);

  std::string text = "{\"traceEvents\":[\n";
  for (size_t i = 0; i < out.size(); ++i) {
    text += out[i].dump(-1, ' ', false, Json::error_handler_t::replace);
    text += i + 1 < out.size() ? ",\n" : "\n";
  }
  text += "],\n\"displayTimeUnit\":\"ms\",\n\"otherData\":";
  text += other.dump(-1, ' ', false, Json::error_handler_t::replace);
  text += "}\n";
  return text;
}

}  // namespace lockstep::sim
