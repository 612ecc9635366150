// Fault times that count from the run's events ("at": "acquired#2+500ms") and the holder
// of the Nth grant ("client": "holder#2"): how they read and write, and that the fault
// strikes when its event has come, whichever seed made the schedule.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/run.h"
#include "sim/scenario.h"

namespace lockstep::sim {
namespace {

std::string refusal(const std::string& faults) {
  try {
    parse_scenario(R"({"algorithm": "recipe", "clients": 3, "faults": )" + faults + "}");
  } catch (const ScenarioError& e) {
    return e.message;
  }
  return "";
}

// The true times (ns) of the events named `ev` in the trace, with `detail` containing
// `detail_part` when given, of `src` when given.
std::vector<int64_t> times_of(const RunResult& r, const std::string& ev,
                              const std::string& src = "", const std::string& detail_part = "") {
  std::vector<int64_t> out;
  for (const std::string& line : r.trace) {
    const auto e = nlohmann::json::parse(line);
    if (e.value("ev", "") != ev) continue;
    if (!src.empty() && e.value("src", "") != src) continue;
    if (!detail_part.empty() && e.value("detail", "").find(detail_part) == std::string::npos)
      continue;
    out.push_back(e["t"].get<int64_t>());
  }
  return out;
}

TEST(FaultTrigger, ReadsAndWritesBack) {
  Scenario s = parse_scenario(R"({"algorithm": "recipe", "clients": 3, "faults": [
    {"kind": "pause", "client": 1, "at": "acquired#2+500ms", "for": "1s"},
    {"kind": "pause", "client": "holder#2", "at": "resource_read", "after_client": 2, "for": "1s"},
    {"kind": "crash", "client": 0, "at": "released+0ns"}]})");
  ASSERT_EQ(s.faults.size(), 3u);
  ASSERT_TRUE(s.faults[0].after);
  EXPECT_EQ(s.faults[0].after->event, EventKind::Acquired);
  EXPECT_EQ(s.faults[0].after->nth, 2);
  EXPECT_EQ(s.faults[0].after->client, 1);  // the fault's own client, by default
  EXPECT_EQ(s.faults[0].at, Time(std::chrono::milliseconds(500)));
  EXPECT_EQ(s.faults[1].target->kind, Target::Kind::NthHolder);
  EXPECT_EQ(s.faults[1].target->index, 2);
  EXPECT_EQ(s.faults[1].after->event, EventKind::ResourceRead);
  EXPECT_EQ(s.faults[1].after->client, 2);
  EXPECT_EQ(s.faults[2].after->event, EventKind::Released);
  EXPECT_TRUE(parse_scenario(scenario_to_json(s)) == s);
  const std::string text = scenario_to_json(s);
  EXPECT_NE(text.find("\"acquired#2+500ms\""), std::string::npos) << text;
  EXPECT_NE(text.find("\"holder#2\""), std::string::npos) << text;
}

TEST(FaultTrigger, RefusesWhatItCannotRead) {
  EXPECT_EQ(refusal(R"([{"kind": "pause", "client": 0, "at": "acquird+1s", "for": "1s"}])"),
            "faults[0].at: must be a duration or EVENT[#N][+DURATION] with EVENT one of "
            "acquire_start, acquired, acquire_failed, lost_observed, release_start, released, "
            "resource_read, resource_write, got \"acquird+1s\"");
  EXPECT_EQ(refusal(R"([{"kind": "pause", "client": 0, "at": "acquired#0", "for": "1s"}])"),
            "faults[0].at: the event count after '#' must be a whole number from 1 to 1000000, "
            "got \"acquired#0\"");
  EXPECT_EQ(refusal(R"([{"kind": "pause", "client": 0, "at": "acquired+-1s", "for": "1s"}])"),
            "faults[0].at: must not be negative, got \"-1s\"");
  EXPECT_EQ(
      refusal(R"([{"kind": "pause", "client": 0, "at": "1s", "after_client": 1, "for": "1s"}])"),
      "faults[0].after_client: needs an \"at\" relative to an event (e.g. \"acquired+1s\")");
  EXPECT_EQ(
      refusal(
          R"([{"kind": "pause", "client": 0, "at": "acquired", "after_client": 3, "for": "1s"}])"),
      "faults[0].after_client: must be at most 2, got 3");
  EXPECT_EQ(refusal(R"([{"kind": "pause", "client": "holder#x", "at": "1s", "for": "1s"}])"),
            "faults[0].client: the grant number after \"holder#\" must be a whole number from 1 "
            "to 1000000, got \"holder#x\"");
  EXPECT_EQ(refusal(R"([{"kind": "pause", "client": "holder@1", "at": "1s", "for": "1s"}])"),
            "faults[0].client: store 1 out of range (stores: 1)");
  EXPECT_EQ(refusal(R"([{"kind": "pause", "client": "holder@C", "at": "1s", "for": "1s"}])"),
            "faults[0].client: the store after \"holder@\" must be a store index from 0, got "
            "\"holder@C\"");
}

// "holder@K" is the client whose lock key is on store K when the fault strikes: with one
// store, the client that holds (zk-slow's single lock node); it reads and writes back.
TEST(FaultTrigger, HolderOnAStoreIsTheOwnerOfItsKey) {
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    SCOPED_TRACE(seed);
    Scenario s = parse_scenario(R"({"algorithm": "zk-slow", "clients": 3,
      "workload": {"cycles": 2, "hold": "50ms", "think": "10ms"},
      "faults": [{"kind": "pause", "client": "holder@0", "at": "acquired#3+20ms", "for": "5ms"},
                 {"kind": "pause", "client": "holder@0", "at": "1ns", "for": "5ms"}]})");
    s.seed = seed;
    EXPECT_EQ(s.faults[0].target->kind, Target::Kind::HolderOnStore);
    EXPECT_TRUE(parse_scenario(scenario_to_json(s)) == s);
    EXPECT_NE(scenario_to_json(s).find("\"holder@0\""), std::string::npos);
    RunResult r = run_scenario(s);
    std::vector<std::string> granted;
    for (const std::string& line : r.trace) {
      const auto e = nlohmann::json::parse(line);
      if (e.value("ev", "") == "acquired") granted.push_back(e["src"]);
    }
    ASSERT_GE(granted.size(), 3u);
    EXPECT_EQ(times_of(r, "fault", granted[2], "pause for").size(), 1u);
    EXPECT_EQ(times_of(r, "fault", "", "pause for").size(), 1u);
    // Before anyone made the key, there is no holder on the store: skipped, with a note.
    EXPECT_EQ(times_of(r, "fault", "", "no key on store 0 right now").size(), 1u);
  }
}

// Over several stores it names the client whose key is there, whether or not it holds a
// quorum: client 1 never reaches store 0, so the holder on store 0 is always client 0.
TEST(FaultTrigger, HolderOnAStoreOfRedlock) {
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    SCOPED_TRACE(seed);
    Scenario s = parse_scenario(R"({"algorithm": "redlock", "options": {"stores": 3},
      "clients": 2, "workload": {"cycles": 2, "hold": "200ms", "think": "10ms"},
      "faults": [{"kind": "partition", "client": 1, "store": 0, "at": "0ns", "for": "60s"},
                 {"kind": "pause", "client": "holder@0", "at": "acquired+20ms", "for": "5ms"},
                 {"kind": "pause", "client": "holder@1", "at": "acquired+20ms", "for": "5ms"}]})");
    s.seed = seed;
    RunResult r = run_scenario(s);
    std::string first;
    for (const std::string& line : r.trace) {
      const auto e = nlohmann::json::parse(line);
      if (e.value("ev", "") == "acquired" && first.empty()) first = e["src"];
    }
    ASSERT_FALSE(first.empty());
    // holder@1 is the first holder (its quorum includes store 1); holder@0 is client 0 or
    // nobody, never client 1.
    const size_t on0 = times_of(r, "fault", "client 0", "pause for").size();
    const size_t on1 = times_of(r, "fault", "client 1", "pause for").size();
    if (first == "client 0") {
      EXPECT_EQ(on0, 2u);
      EXPECT_EQ(on1, 0u);
    } else {
      EXPECT_EQ(on1, 1u);
      EXPECT_LE(on0, 1u);
    }
  }
}

// A fault that fired from an event counts in the quiet phase's start like any other.
TEST(FaultTrigger, CountsInTheQuietPhase) {
  Scenario s = parse_scenario(R"({"algorithm": "recipe", "clients": 2, "session_timeout": "1s",
    "server": {"tick_time": "500ms"},
    "workload": {"cycles": 40, "hold": "100ms", "think": "10ms"},
    "faults": [{"kind": "pause", "client": 1, "at": "acquired+50ms", "for": "300ms"}]})");
  RunResult r = run_scenario(s);
  const auto grants = times_of(r, "acquired", "client 1");
  ASSERT_FALSE(grants.empty());
  const double stopped_s = static_cast<double>(grants[0] + 350'000'000) / 1e9;
  bool seen = false;
  for (const auto& v : r.verdicts) {
    if (v.checker != "liveness-after-quiet") continue;
    seen = true;
    char expect[64];
    std::snprintf(expect, sizeof expect, "%.6fs", stopped_s);
    EXPECT_NE(v.summary.find(expect), std::string::npos) << v.summary << " / " << expect;
  }
  EXPECT_TRUE(seen);
}

}  // namespace
}  // namespace lockstep::sim
