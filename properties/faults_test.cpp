// The fault kinds' one home: the table of descriptors (sim/faults/), their scenario keys,
// and the live form that `live --fault` reads, with the older spellings as aliases.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>

#include "sim/faults/live_form.h"
#include "sim/faults/table.h"
#include "sim/scenario.h"

namespace lockstep::sim {
namespace {

using namespace std::chrono_literals;

TEST(FaultTable, OneDescriptorPerKindInItsRow) {
  const auto& table = fault_table();
  ASSERT_EQ(table.size(), static_cast<size_t>(kFaultKindCount));
  std::set<std::string_view> spellings;
  for (size_t i = 0; i < table.size(); ++i) {
    const FaultDescriptor& d = *table[i];
    EXPECT_EQ(static_cast<size_t>(d.kind), i) << d.name;
    EXPECT_EQ(&fault_descriptor(d.kind), &d);
    EXPECT_EQ(find_fault(d.name), &d);
    EXPECT_TRUE(spellings.insert(d.name).second) << d.name;
    for (std::string_view a : d.aliases) {
      EXPECT_TRUE(spellings.insert(a).second) << a;
      EXPECT_EQ(find_fault_or_alias(a), &d);
      EXPECT_EQ(find_fault(a), nullptr) << "a scenario file takes only the name: " << a;
    }
    ASSERT_FALSE(d.keys.empty());
    EXPECT_EQ(d.keys.front(), "kind");
    for (std::string_view r : d.required)
      EXPECT_NE(std::find(d.keys.begin(), d.keys.end(), r), d.keys.end()) << d.name << " " << r;
    EXPECT_TRUE(d.read && d.write && d.describe && d.apply && d.gen && d.from_draft) << d.name;
  }
  // The order of docs/scenario.md, which `check --faults all` draws by.
  EXPECT_EQ(fault_names(),
            (std::vector<std::string>{"pause", "crash", "clock", "partition", "drop_reply",
                                      "latency", "loss", "duplicate", "server_stall",
                                      "expire_session", "store_crash"}));
}

// A fault with every field its kind reads: written, it has exactly its kind's keys, in the
// descriptor's order, and reads back to itself.
TEST(FaultTable, EachKindWritesItsKeysInOrderAndReadsThemBack) {
  Scenario s;
  s.algorithm = "redlock";
  s.clients = 4;
  for (FaultKind k : fault_kinds()) {
    Fault f;
    f.kind = k;
    f.at = 2s;
    const auto& keys = fault_descriptor(k).keys;
    auto has = [&](std::string_view key) {
      return std::find(keys.begin(), keys.end(), key) != keys.end();
    };
    if (has("client")) f.target = Target{Target::Kind::Index, 1};
    if (has("for")) f.length = 3s;
    if (has("restart_after")) f.restart_after = 4s;
    if (has("probability")) f.probability = 0.25;
    if (has("op")) f.op = "create";
    if (has("direction")) f.direction = "to_server";
    if (has("min")) f.latency = {1ms, 9ms};
    if (has("drift")) f.clock.jump = -1s;
    if (has("persist")) f.persist = false;
    if (has("store") && k != FaultKind::Clock) f.store = 0;  // a client clock names none
    s.faults.push_back(f);
  }
  const std::string text = scenario_to_json(s);
  const auto doc = nlohmann::ordered_json::parse(text);
  for (size_t i = 0; i < s.faults.size(); ++i) {
    const FaultDescriptor& d = fault_descriptor(s.faults[i].kind);
    std::vector<std::string_view> written;
    for (const auto& [key, value] : doc["faults"][i].items()) written.push_back(key);
    std::vector<std::string_view> expected = d.keys;
    // clock takes one of drift, jump, strobe, and a store only for the server's clock.
    if (d.kind == FaultKind::Clock) expected = {"kind", "client", "at", "jump"};
    EXPECT_EQ(written, expected) << d.name;
    EXPECT_FALSE(d.describe(s.faults[i]).empty()) << d.name;
  }
  EXPECT_TRUE(parse_scenario(text) == s) << text;
}

TEST(LiveForm, ReadsEveryKindByItsNameAndItsOlderSpelling) {
  LiveFault pause = parse_live_fault("pause:holder:1s:8s", 3);
  EXPECT_EQ(pause.kind, FaultKind::Pause);
  EXPECT_EQ(pause.name, "pause");
  EXPECT_EQ(pause.who, LiveFault::Who::Holder);
  EXPECT_EQ(pause.at, 1s);
  EXPECT_EQ(pause.length, 8s);

  for (const std::string text : {"expire_session:2:1500ms", "expire:2:1500ms"}) {
    LiveFault f = parse_live_fault(text, 3);
    EXPECT_EQ(f.kind, FaultKind::ExpireSession) << text;
    EXPECT_EQ(f.name, "expire_session") << text;
    EXPECT_EQ(f.who, LiveFault::Who::Index) << text;
    EXPECT_EQ(f.client, 2) << text;
    EXPECT_EQ(f.at, 1500ms) << text;
    EXPECT_EQ(live_fault_text(f), "expire_session:2:1500ms");
  }
  for (const std::string text : {"store_crash:1s:3s", "kill-leader:1s:3s"}) {
    LiveFault f = parse_live_fault(text, 3);
    EXPECT_EQ(f.kind, FaultKind::StoreCrash) << text;
    EXPECT_EQ(f.at, 1s) << text;
    EXPECT_EQ(f.restart_after, std::optional<Duration>(3s)) << text;
    EXPECT_EQ(live_fault_text(f), "store_crash:1s:3s");
  }
  LiveFault crash = parse_live_fault("crash:waiter:2s", 3);
  EXPECT_EQ(crash.kind, FaultKind::Crash);
  EXPECT_FALSE(crash.restart_after);
  EXPECT_EQ(live_fault_text(crash), "crash:waiter:2s");
  EXPECT_EQ(live_fault_text(parse_live_fault("kill-leader:5s", 1)), "store_crash:5s");

  LiveFault drift = parse_live_fault("clock:waiter:200ms:+50%", 3);
  EXPECT_EQ(drift.kind, FaultKind::Clock);
  EXPECT_EQ(drift.who, LiveFault::Who::Waiter);
  EXPECT_EQ(drift.drift_ppm, std::optional<double>(500000));
  EXPECT_FALSE(drift.jump);
  EXPECT_EQ(live_fault_text(drift), "clock:waiter:200ms:+50%");
  EXPECT_EQ(live_fault_text(parse_live_fault("clock:1:1s:-500ppm", 3)), "clock:1:1s:-500ppm");
  LiveFault jump = parse_live_fault("clock:0:1s:-2500ms", 3);
  EXPECT_EQ(jump.jump, std::optional<Duration>(-2500ms));
  EXPECT_FALSE(jump.drift_ppm);
  EXPECT_EQ(live_fault_text(jump), "clock:0:1s:-2500ms");
  EXPECT_EQ(live_fault_text(parse_live_fault("clock:0:1s:3s", 3)), "clock:0:1s:+3s");

  LiveFault cut = parse_live_fault("partition:holder:1s:6s", 3);
  EXPECT_EQ(cut.kind, FaultKind::Partition);
  EXPECT_EQ(cut.direction, "both");
  EXPECT_FALSE(cut.server);
  EXPECT_EQ(live_fault_text(cut), "partition:holder:1s:6s:both");
  LiveFault one_way = parse_live_fault("partition:1:1s:6s:from_server:2", 3);
  EXPECT_EQ(one_way.direction, "from_server");
  EXPECT_EQ(one_way.server, std::optional<int>(2));
  EXPECT_EQ(live_fault_text(one_way), "partition:1:1s:6s:from_server:2");

  LiveFault slow = parse_live_fault("latency:all:500ms:1s:50ms", 3);
  EXPECT_EQ(slow.who, LiveFault::Who::All);
  EXPECT_EQ(slow.latency_min, 50ms);
  EXPECT_EQ(slow.latency_max, 50ms);
  EXPECT_EQ(live_fault_text(slow), "latency:all:500ms:1s:50ms:50ms");
  EXPECT_EQ(parse_live_fault("latency:0:0s:1s:10ms:90ms:1", 3).latency_max, 90ms);

  LiveFault lossy = parse_live_fault("loss:2:1s:2s:0.25", 3);
  EXPECT_EQ(lossy.probability, 0.25);
  EXPECT_EQ(live_fault_text(lossy), "loss:2:1s:2s:0.25");

  // AT counted from an event, as a scenario's "at": a role counts anyone's events, an
  // index its own client's.
  LiveFault relative = parse_live_fault("clock:waiter:acquire_start#2+300ms:+3s", 3);
  ASSERT_TRUE(relative.after);
  EXPECT_EQ(relative.after->event, EventKind::AcquireStart);
  EXPECT_EQ(relative.after->nth, 2);
  EXPECT_FALSE(relative.after->client);
  EXPECT_EQ(relative.at, 300ms);
  EXPECT_EQ(live_fault_text(relative), "clock:waiter:acquire_start#2+300ms:+3s");
  LiveFault own = parse_live_fault("pause:1:acquired:2s", 3);
  ASSERT_TRUE(own.after);
  EXPECT_EQ(own.after->client, std::optional<int>(1));
  EXPECT_EQ(own.at, 0s);
  EXPECT_EQ(live_fault_text(own), "pause:1:acquired:2s");
}

TEST(LiveForm, RefusesWhatItCannotDoInOneLine) {
  auto message = [](const std::string& text) {
    try {
      parse_live_fault(text, 3);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  const std::string forms =
      "pause:CLIENT:AT:FOR, crash:CLIENT:AT[:RESTART_AFTER], clock:CLIENT:AT:CHANGE, "
      "partition:CLIENT:AT:FOR[:DIRECTION[:SERVER]], latency:CLIENT:AT:FOR:MIN[:MAX[:SERVER]], "
      "loss:CLIENT:AT:FOR:PROBABILITY[:SERVER], expire_session:CLIENT:AT or "
      "store_crash:AT[:RESTART_AFTER]";
  EXPECT_EQ(message("duplicate:0:1s:2s:0.1"), "--fault: \"duplicate:0:1s:2s:0.1\" is not " + forms);
  EXPECT_EQ(message("pause:0:1s"), "--fault: \"pause:0:1s\" is not " + forms);
  EXPECT_EQ(message("store_crash:1s:2s:3s"), "--fault: \"store_crash:1s:2s:3s\" is not " + forms);
  EXPECT_EQ(message("pause:3:1s:2s"),
            "--fault pause:3:1s:2s: client \"3\" is not holder, waiter or 0..2");
  EXPECT_EQ(message("expire:1:soon"),
            "--fault expire:1:soon: at: must be a duration or EVENT[#N][+DURATION] with EVENT "
            "one of acquire_start, acquired, acquire_failed, lost_observed, release_start, "
            "released, resource_read, resource_write, got \"soon\"");
  EXPECT_EQ(message("pause:0:acquired#0:1s"),
            "--fault pause:0:acquired#0:1s: at: the event count after '#' must be a whole "
            "number from 1 to 1000000, got \"acquired#0\"");
  EXPECT_EQ(message("pause:0:5:1s"), "--fault pause:0:5:1s: \"5\" is not a duration");
  EXPECT_EQ(message("clock:0:1s:fast"),
            "--fault clock:0:1s:fast: \"fast\" is not a clock drift (+50%, -500ppm) or jump "
            "(+2s, -1s)");
  EXPECT_EQ(message("clock:all:1s:+1s"),
            "--fault clock:all:1s:+1s: client \"all\" is not holder, waiter or 0..2");
  EXPECT_EQ(message("partition:0:1s:2s:sideways"),
            "--fault partition:0:1s:2s:sideways: direction \"sideways\" is not both, to_server "
            "or from_server");
  EXPECT_EQ(message("loss:all:1s:2s:1.5"),
            "--fault loss:all:1s:2s:1.5: \"1.5\" is not a probability from 0 to 1");
  EXPECT_EQ(message("latency:0:1s:2s:50ms:10ms"),
            "--fault latency:0:1s:2s:50ms:10ms: MAX 10ms is below MIN 50ms");
  EXPECT_EQ(message("partition:0:1s:2s:both:x"),
            "--fault partition:0:1s:2s:both:x: server \"x\" is not an index (0 is the first "
            "server of the first --store)");
}

TEST(LiveForm, ScenarioFaultsThatALiveRunCanDo) {
  Fault pause;
  pause.kind = FaultKind::Pause;
  pause.target = Target{Target::Kind::Waiter, 0};
  pause.at = 1s;
  pause.length = 2s;
  auto live = live_form(pause);
  ASSERT_TRUE(live);
  EXPECT_EQ(live_fault_text(*live), "pause:waiter:1s:2s");

  Fault partition;
  partition.kind = FaultKind::Partition;
  partition.target = Target{Target::Kind::Index, 0};
  partition.length = 2s;
  partition.direction = "to_server";
  partition.store = 1;
  ASSERT_TRUE(live_form(partition));
  EXPECT_EQ(live_fault_text(*live_form(partition)), "partition:0:0ns:2s:to_server");
  EXPECT_EQ(live_form(partition)->store, std::optional<int>(1));

  Fault latency;  // no client: every client's
  latency.kind = FaultKind::Latency;
  latency.at = 1s;
  latency.length = 2s;
  latency.latency = {.min = 10ms, .max = 30ms};
  ASSERT_TRUE(live_form(latency));
  EXPECT_EQ(live_fault_text(*live_form(latency)), "latency:all:1s:2s:10ms:30ms");

  Fault duplicate;
  duplicate.kind = FaultKind::Duplicate;
  duplicate.probability = 0.1;
  EXPECT_FALSE(live_form(duplicate));

  Fault server_clock;
  server_clock.kind = FaultKind::Clock;
  server_clock.target = Target{Target::Kind::Server, 0};
  server_clock.clock.drift_ppm = 20000;
  EXPECT_FALSE(live_form(server_clock));  // a client's clock only

  Fault client_clock = server_clock;
  client_clock.target = Target{Target::Kind::Index, 1};
  client_clock.at = 2s;
  ASSERT_TRUE(live_form(client_clock));
  EXPECT_EQ(live_fault_text(*live_form(client_clock)), "clock:1:2s:+2%");
  client_clock.clock = ClockChange();
  client_clock.clock.jump = -1s;
  EXPECT_EQ(live_fault_text(*live_form(client_clock)), "clock:1:2s:-1s");
  client_clock.clock = ClockChange();
  client_clock.clock.strobe = ClockChange::Strobe{1s, 10ms, 2s};
  EXPECT_FALSE(live_form(client_clock));  // no strobe

  Fault store;
  store.kind = FaultKind::StoreCrash;
  store.at = 1s;
  store.restart_after = 2s;
  ASSERT_TRUE(live_form(store));
  EXPECT_EQ(live_fault_text(*live_form(store)), "store_crash:1s:2s");
  store.persist = false;  // a live leader restarts with its data
  EXPECT_FALSE(live_form(store));
  store.persist = true;
  store.store = 1;  // live, only the first store's leader is killed
  EXPECT_FALSE(live_form(store));

  // A time counted from an event goes live as it is; the holder of the Nth grant does not.
  Fault relative = pause;
  relative.after = FaultTrigger{.event = EventKind::Acquired, .nth = 2, .client = std::nullopt};
  relative.at = Time(500ms);
  ASSERT_TRUE(live_form(relative));
  EXPECT_EQ(live_fault_text(*live_form(relative)), "pause:waiter:acquired#2+500ms:2s");
  relative.target = Target{Target::Kind::NthHolder, 1};
  EXPECT_FALSE(live_form(relative));

  EXPECT_TRUE(live_names_client(FaultKind::Crash));
  EXPECT_FALSE(live_names_client(FaultKind::StoreCrash));
}

}  // namespace
}  // namespace lockstep::sim
