// The pictures of a run: scripts/plot_timeline.py draws a trace as a PNG, and
// perfetto_json writes it as a Chrome/Perfetto trace-event document. Both are checked on
// a run that breaks mutual exclusion (the holder paused past its session timeout) and
// one that does not.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/perfetto.h"
#include "sim/run.h"
#include "sim/scenario.h"

namespace lockstep::sim {
namespace {

namespace fs = std::filesystem;

const char* kPauseHolder = R"({
  "algorithm": "recipe",
  "seed": 1,
  "clients": 3,
  "session_timeout": "4s",
  "workload": {"cycles": 5, "hold": "2s", "think": "10ms", "acquire_timeout": "60s"},
  "faults": [{"kind": "pause", "client": "holder", "at": "1s", "for": "10s"}]
})";

const char* kNoFaults = R"({
  "algorithm": "recipe",
  "seed": 1,
  "clients": 3,
  "session_timeout": "4s",
  "workload": {"cycles": 5, "hold": "200ms", "think": "10ms"}
})";

fs::path repo_root() { return fs::path(__FILE__).parent_path().parent_path(); }

// A file name of this test process's own, so that parallel tests do not collide.
fs::path temp_file(const std::string& name) {
  return fs::temp_directory_path() /
         ("lockstep-timeline-" + std::to_string(::getpid()) + "-" + name);
}

void write_trace(const RunResult& r, const fs::path& path) {
  std::ofstream out(path);
  for (const auto& line : r.trace) out << line << '\n';
  ASSERT_TRUE(out.good()) << path;
}

// Runs the plotting script; returns its exit status (-1 if it did not exit normally).
int plot(const std::string& args) {
  const std::string cmd = "/usr/bin/python3 '" +
                          (repo_root() / "scripts" / "plot_timeline.py").string() + "' " + args +
                          " 2>/dev/null";
  int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string quoted(const fs::path& p) { return "'" + p.string() + "'"; }

TEST(PlotTimeline, DrawsAPauseThatBreaksMutualExclusionAsAPng) {
  RunResult r = run_scenario(parse_scenario(kPauseHolder));
  ASSERT_FALSE(r.ok()) << "the scenario should break mutual exclusion";
  const fs::path trace = temp_file("pause.jsonl");
  const fs::path png = temp_file("pause.png");
  fs::remove(png);
  write_trace(r, trace);

  ASSERT_EQ(plot(quoted(trace) + " -o " + quoted(png) + " --title 'pause the holder'"), 0);
  ASSERT_TRUE(fs::exists(png));
  EXPECT_GT(fs::file_size(png), 10000u);
  std::ifstream in(png, std::ios::binary);
  std::string head(8, '\0');
  in.read(head.data(), 8);
  EXPECT_EQ(head, std::string("\x89PNG\r\n\x1a\n", 8));
  fs::remove(trace);
  fs::remove(png);
}

TEST(PlotTimeline, RejectsBadInputWithExitStatus2) {
  const fs::path png = temp_file("bad.png");
  EXPECT_EQ(plot(quoted(temp_file("no-such-trace.jsonl")) + " -o " + quoted(png)), 2);
  const fs::path junk = temp_file("junk.jsonl");
  {
    std::ofstream out(junk);
    out << "this is not a trace\n";
  }
  EXPECT_EQ(plot(quoted(junk) + " -o " + quoted(png)), 2);
  EXPECT_FALSE(fs::exists(png));
  EXPECT_EQ(plot("--help >/dev/null"), 0);
  fs::remove(junk);
}

struct Parsed {
  nlohmann::json doc;
  std::map<int, std::string> thread_names;  // tid -> name
  std::vector<nlohmann::json> slices;       // "X" events
  int tid_of(const std::string& name) const {
    for (const auto& [tid, n] : thread_names)
      if (n == name) return tid;
    return -1;
  }
  std::vector<nlohmann::json> slices_named(const std::string& name, int tid = -1) const {
    std::vector<nlohmann::json> out;
    for (const auto& s : slices)
      if (s["name"] == name && (tid < 0 || s["tid"] == tid)) out.push_back(s);
    return out;
  }
};

Parsed parse(const std::string& text) {
  Parsed p;
  p.doc = nlohmann::json::parse(text);  // throws, failing the test, if it is not JSON
  for (const auto& e : p.doc.at("traceEvents")) {
    if (e.at("ph") == "M" && e.at("name") == "thread_name")
      p.thread_names[e.at("tid").get<int>()] = e.at("args").at("name").get<std::string>();
    if (e.at("ph") == "X") p.slices.push_back(e);
  }
  return p;
}

// Complete events on one thread either nest or follow each other; viewers misdraw any
// that partly overlap.
void expect_properly_nested(const Parsed& p) {
  std::map<int, std::vector<std::pair<double, double>>> by_tid;
  for (const auto& s : p.slices) {
    double ts = s.at("ts").get<double>(), dur = s.at("dur").get<double>();
    EXPECT_GE(dur, 0.0);
    by_tid[s.at("tid").get<int>()].emplace_back(ts, ts + dur);
  }
  for (auto& [tid, spans] : by_tid) {
    std::sort(spans.begin(), spans.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first < b.first : a.second > b.second;
    });
    std::vector<double> open;
    for (const auto& [start, end] : spans) {
      while (!open.empty() && open.back() <= start + 1e-6) open.pop_back();
      if (!open.empty()) {
        EXPECT_LE(end, open.back() + 1e-6)
            << "tid " << tid << ": slice [" << start << ", " << end << "] outlasts its parent";
      }
      open.push_back(end);
    }
  }
}

TEST(PerfettoJson, ShowsEachClientEachHoldAndTheViolation) {
  const Scenario sc = parse_scenario(kPauseHolder);
  RunResult r = run_scenario(sc);
  ASSERT_FALSE(r.ok());
  const std::string text = perfetto_json(sc, r);
  Parsed p = parse(text);

  EXPECT_EQ(p.doc.at("displayTimeUnit"), "ms");
  for (int i = 0; i < sc.clients; ++i)
    EXPECT_EQ(p.tid_of("client " + std::to_string(i)), i + 1) << "client " << i;
  EXPECT_EQ(p.tid_of("server"), 0);
  const int violations = p.tid_of("violations");
  ASSERT_GE(violations, 0);

  // One "holding lock" slice per acquisition, on the acquiring client's track.
  int acquisitions = 0;
  std::map<int, int> per_client;
  for (const auto& e : r.history.events())
    if (e.kind == EventKind::Acquired) {
      ++acquisitions;
      ++per_client[e.client];
    }
  EXPECT_EQ(static_cast<int>(p.slices_named("holding lock").size()), acquisitions);
  for (const auto& [client, n] : per_client)
    EXPECT_EQ(static_cast<int>(p.slices_named("holding lock", client + 1).size()), n);

  // The paused holder: a "paused" slice of 10 s on its track.
  auto paused = p.slices_named("paused");
  ASSERT_EQ(paused.size(), 1u);
  EXPECT_DOUBLE_EQ(paused[0]["ts"].get<double>(), 1e6);
  EXPECT_DOUBLE_EQ(paused[0]["dur"].get<double>(), 10e6);

  // The overlap: red slices on the violations track, starting when the second client
  // acquired after the paused holder's session expired at about 6 s.
  auto bad = p.slices_named("mutual exclusion violated", violations);
  ASSERT_FALSE(bad.empty());
  for (const auto& s : bad) {
    EXPECT_EQ(s["cname"], "terrible");
    EXPECT_GE(s["args"]["holders"].size(), 2u);
  }
  EXPECT_GT(bad.front()["ts"].get<double>(), 6e6);
  EXPECT_LT(bad.front()["ts"].get<double>(), 7e6);

  // Faults and the server's expiry are instants.
  bool pause_instant = false, server_expiry = false;
  for (const auto& e : p.doc["traceEvents"]) {
    if (e["ph"] != "i") continue;
    if (e["name"] == "pause for 10s") pause_instant = true;
    if (e["tid"] == 0 && e["name"].get<std::string>().find("expired") != std::string::npos)
      server_expiry = true;
  }
  EXPECT_TRUE(pause_instant);
  EXPECT_TRUE(server_expiry);

  expect_properly_nested(p);
  // Deterministic: the same run, the same bytes.
  EXPECT_EQ(perfetto_json(sc, run_scenario(sc)), text);
}

TEST(PerfettoJson, NoViolationSliceWhenExclusionHolds) {
  const Scenario sc = parse_scenario(kNoFaults);
  RunResult r = run_scenario(sc);
  ASSERT_TRUE(r.ok());
  Parsed p = parse(perfetto_json(sc, r));
  const int violations = p.tid_of("violations");
  ASSERT_GE(violations, 0);
  for (const auto& s : p.slices) EXPECT_NE(s["tid"], violations) << s.dump();
  EXPECT_EQ(static_cast<int64_t>(p.slices_named("holding lock").size()), r.acquisitions);
  EXPECT_EQ(static_cast<int64_t>(p.slices_named("holding lock").size()), 15);
  expect_properly_nested(p);
}

TEST(PerfettoJson, WorksWithoutTheTrace) {
  const Scenario sc = parse_scenario(kPauseHolder);
  RunOptions quiet;
  quiet.keep_trace = false;
  RunResult r = run_scenario(sc, quiet);
  Parsed p = parse(perfetto_json(sc, r));
  EXPECT_FALSE(p.slices_named("mutual exclusion violated").empty());
  EXPECT_EQ(static_cast<int64_t>(p.slices_named("holding lock").size()), r.acquisitions);
}

}  // namespace
}  // namespace lockstep::sim
