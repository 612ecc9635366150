// The scenario file format (docs/scenario.md): defaults, every key, the one-line error
// for each kind of bad document, and the round trip through scenario_to_json.
#include "sim/scenario.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <tuple>

#include "core/lock.h"
#include "sim/faults/table.h"
#include "sim/run.h"

namespace lockstep::sim {
namespace {

std::string error_of(const std::string& text) {
  try {
    parse_scenario(text);
  } catch (const ScenarioError& e) {
    EXPECT_EQ(e.message.find('\n'), std::string::npos) << "not one line: " << e.message;
    return e.message;
  }
  return "<no error>";
}

std::string error_of_options(const std::string& text) {
  try {
    parse_options(text);
  } catch (const ScenarioError& e) {
    return e.message;
  }
  return "<no error>";
}

// A document with `extra` (a JSON fragment of top-level keys) after the algorithm.
std::string doc(const std::string& extra = "") {
  return R"({"algorithm": "recipe")" + (extra.empty() ? "" : ", " + extra) + "}";
}

std::string with_fault(const std::string& fault, int clients = 5) {
  return doc(R"("clients": )" + std::to_string(clients) + R"(, "faults": [)" + fault + "]");
}

Fault only_fault(const std::string& fault) {
  Scenario s = parse_scenario(with_fault(fault));
  EXPECT_EQ(s.faults.size(), 1u);
  return s.faults.empty() ? Fault{} : s.faults[0];
}

// Algorithms declare the options they take; tests of option values need one that takes
// at least one, whatever the catalogue holds today.
const AlgorithmInfo* algorithm_with_options() {
  for (const AlgorithmInfo& a : algorithms())
    if (!a.options.empty()) return &a;
  return nullptr;
}

TEST(Scenario, MissingKeysGetTheDocumentedDefaults) {
  Scenario s = parse_scenario(R"({"algorithm": "recipe"})");
  EXPECT_EQ(s.algorithm, "recipe");
  EXPECT_TRUE(s.options.all().empty());
  EXPECT_EQ(s.seed, 1u);
  EXPECT_EQ(s.clients, 3);
  EXPECT_EQ(s.session_timeout, 4s);
  EXPECT_EQ(s.lock_path, "/locks/a");
  EXPECT_EQ(s.workload.cycles, 20);
  EXPECT_EQ(s.workload.hold, 5ms);
  EXPECT_EQ(s.workload.think, 1ms);
  EXPECT_EQ(s.workload.acquire_timeout, 30s);
  EXPECT_EQ(s.network.latency.min, 200us);
  EXPECT_EQ(s.network.latency.max, 2ms);
  EXPECT_EQ(s.server.tick_time, 2s);
  EXPECT_EQ(s.server.ttl_check_interval, 500ms);
  EXPECT_TRUE(s.faults.empty());
  EXPECT_FALSE(s.nemesis.enabled);
  EXPECT_FALSE(s.resource.enabled);
  EXPECT_EQ(s.fencing, "");
  EXPECT_EQ(s.duration, 120s);
  Scenario expected;
  expected.algorithm = "recipe";
  EXPECT_TRUE(s == expected);
}

TEST(Scenario, FormatIsOptionalAndANewerOneIsRefusedBeforeItsKeys) {
  Scenario expected;
  expected.algorithm = "recipe";
  EXPECT_TRUE(parse_scenario(doc(R"("format": 1)")) == expected);
  // A newer file may have keys this build lacks: the refusal names the formats, not a key.
  EXPECT_EQ(error_of(R"({"format": 2, "algorithm": "recipe", "quorum": 3})"),
            "format: the file is scenario format 2, this lockstep reads format 1 (a newer "
            "lockstep wrote it)");
  EXPECT_EQ(error_of(doc(R"("format": 18446744073709551615)")).rfind("format: the file is", 0), 0u);
  EXPECT_EQ(error_of(doc(R"("format": "1")")),
            "format: must be an integer (this lockstep reads format 1), got \"1\"");
  EXPECT_EQ(error_of(doc(R"("format": 1.5)")),
            "format: must be an integer (this lockstep reads format 1), got 1.5");
  EXPECT_EQ(error_of(doc(R"("format": 0)")), "format: must be at least 1, got 0");
  EXPECT_EQ(error_of(doc(R"("format": -3)")), "format: must be at least 1, got -3");
}

TEST(Scenario, ReadsEveryTopLevelKey) {
  Scenario s = parse_scenario(R"({
    "algorithm": "zk-fast",
    "options": {},
    "seed": 18446744073709551615,
    "clients": 7,
    "session_timeout": "6s",
    "lock_path": "/app/locks/x",
    "workload": {"cycles": 3, "hold": "1.5s", "think": "0ms", "acquire_timeout": "2m"},
    "network": {"latency": {"min": "1ms", "max": "10ms"}},
    "server": {"tick_time": "500ms", "ttl_check_interval": "100ms"},
    "resource": {"fenced": false, "store": "separate"},
    "fencing": "sequence",
    "duration": "10m",
    "nemesis": {"kinds": ["pause", "clock"], "mean_interval": "3s", "quiet_after": "40s"},
    "faults": []
  })");
  EXPECT_EQ(s.algorithm, "zk-fast");
  EXPECT_EQ(s.seed, 18446744073709551615u);
  EXPECT_EQ(s.clients, 7);
  EXPECT_EQ(s.session_timeout, 6s);
  EXPECT_EQ(s.lock_path, "/app/locks/x");
  EXPECT_EQ(s.workload.cycles, 3);
  EXPECT_EQ(s.workload.hold, 1500ms);
  EXPECT_EQ(s.workload.think, 0ms);
  EXPECT_EQ(s.workload.acquire_timeout, 120s);
  EXPECT_EQ(s.network.latency.min, 1ms);
  EXPECT_EQ(s.network.latency.max, 10ms);
  EXPECT_EQ(s.server.tick_time, 500ms);
  EXPECT_EQ(s.server.ttl_check_interval, 100ms);
  EXPECT_TRUE(s.resource.enabled);
  EXPECT_FALSE(s.resource.fenced);
  EXPECT_TRUE(s.resource.separate_store);
  EXPECT_EQ(s.fencing, "sequence");
  EXPECT_EQ(s.duration, 600s);
  EXPECT_TRUE(s.nemesis.enabled);
  EXPECT_EQ(s.nemesis.kinds, (std::vector<FaultKind>{FaultKind::Pause, FaultKind::Clock}));
  EXPECT_EQ(s.nemesis.mean_interval, 3s);
  EXPECT_EQ(s.nemesis.quiet_after, 40s);
}

TEST(Scenario, PartialObjectsKeepTheOtherDefaults) {
  Scenario s = parse_scenario(doc(R"("workload": {"cycles": 0}, "resource": {},
                                     "network": {"latency": {"max": "5ms"}})"));
  EXPECT_EQ(s.workload.cycles, 0);
  EXPECT_EQ(s.workload.hold, 5ms);
  EXPECT_TRUE(s.resource.enabled);
  EXPECT_TRUE(s.resource.fenced);
  EXPECT_FALSE(s.resource.separate_store);
  EXPECT_EQ(s.network.latency.min, 200us);
  EXPECT_EQ(s.network.latency.max, 5ms);
}

TEST(Scenario, OptionValuesAreKeptAsText) {
  auto value = [](const std::string& json_value) {
    const Options o = parse_options(R"({"k": )" + json_value + "}");
    return o.has("k") ? o.all().at("k") : "<absent>";
  };
  EXPECT_EQ(value(R"("10s")"), "10s");
  EXPECT_EQ(value("5"), "5");
  EXPECT_EQ(value("-3"), "-3");
  EXPECT_EQ(value("0.25"), "0.25");
  EXPECT_EQ(value("true"), "true");
  EXPECT_EQ(value("false"), "false");
  EXPECT_EQ(value("[1, 2]"), "[1,2]");
  EXPECT_EQ(value(R"({"a": 1})"), R"({"a":1})");
  EXPECT_EQ(error_of_options(R"({"k": null})"), "options.k: must not be null");
  EXPECT_EQ(error_of_options("[]"), "options: must be an object, got []");
}

TEST(Scenario, OptionsReachTheAlgorithmThatTakesThem) {
  const AlgorithmInfo* a = algorithm_with_options();
  if (!a) GTEST_SKIP() << "no algorithm in the catalogue takes options yet";
  const std::string key = a->options.front().key;
  Scenario s =
      parse_scenario(R"({"algorithm": ")" + a->name + R"(", "options": {")" + key + R"(": "7"}})");
  EXPECT_EQ(s.options.all().at(key), "7");
}

TEST(Scenario, UnknownOptionIsNamed) {
  std::string e = error_of(doc(R"("options": {"frobnicate": 1})"));
  EXPECT_EQ(e.rfind("options.frobnicate: unknown option (", 0), 0u) << e;
}

// An option's value is the algorithm's to read; a malformed one must fail the run with
// the option's name, not leave every client silently stopped with no grants.
TEST(Scenario, MalformedAlgorithmOptionFailsTheRun) {
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"zk-ttl", "ttl", R"("abc")"},
      {"etcd-session", "ttl", R"("5")"},
      {"redlock", "tries", "0"},
      {"redlock", "expiry", R"("-1s")"},
      {"lease-fenced", "fencing", R"("maybe")"},
      {"lease-fenced", "lease", R"("soon")"},
  };
  for (const auto& [algorithm, key, value] : cases) {
    SCOPED_TRACE(algorithm + " " + key + "=" + value);
    const Scenario s = parse_scenario(R"({"algorithm": ")" + algorithm + R"(", "clients": 2,
        "options": {")" + key + R"(": )" +
                                      value + "}}");
    try {
      run_scenario(s, RunOptions{false});
      ADD_FAILURE() << "the run did not fail";
    } catch (const OptionError& e) {
      EXPECT_EQ(e.key, key);
      EXPECT_FALSE(e.problem.empty());
    }
  }
}

TEST(Scenario, ReadsEachFaultKind) {
  Fault pause = only_fault(R"({"kind": "pause", "client": 2, "at": "1s", "for": "10s"})");
  EXPECT_EQ(pause.kind, FaultKind::Pause);
  EXPECT_EQ(pause.at, 1s);
  ASSERT_TRUE(pause.target);
  EXPECT_EQ(pause.target->kind, Target::Kind::Index);
  EXPECT_EQ(pause.target->index, 2);
  EXPECT_EQ(pause.length, std::optional<Duration>(10s));

  Fault crash = only_fault(R"({"kind": "crash", "client": "holder", "at": "2s"})");
  EXPECT_EQ(crash.target->kind, Target::Kind::Holder);
  EXPECT_FALSE(crash.restart_after);
  crash = only_fault(R"({"kind": "crash", "client": 0, "at": "2s", "restart_after": "3s"})");
  EXPECT_EQ(crash.restart_after, std::optional<Duration>(3s));

  Fault part = only_fault(R"({"kind": "partition", "client": "waiter", "at": "0s", "for": "1s"})");
  EXPECT_EQ(part.target->kind, Target::Kind::Waiter);
  EXPECT_EQ(part.direction, "both");
  part = only_fault(
      R"({"kind": "partition", "client": 1, "at": "0s", "for": "1s", "direction": "to_server"})");
  EXPECT_EQ(part.direction, "to_server");

  Fault drop = only_fault(R"({"kind": "drop_reply", "client": 4, "at": "5ms"})");
  EXPECT_EQ(drop.op, "");
  drop = only_fault(R"({"kind": "drop_reply", "client": 4, "at": "5ms", "op": "create"})");
  EXPECT_EQ(drop.op, "create");

  Fault lat = only_fault(R"({"kind": "latency", "at": "1s", "for": "2s", "min": "10ms",
                             "max": "50ms"})");
  EXPECT_FALSE(lat.target);
  EXPECT_EQ(lat.latency.min, 10ms);
  EXPECT_EQ(lat.latency.max, 50ms);
  EXPECT_EQ(lat.length, std::optional<Duration>(2s));

  for (std::string kind : {"loss", "duplicate"}) {
    Fault f = only_fault(R"({"kind": ")" + kind +
                         R"(", "at": "1s", "for": "2s", "probability": 0.5, "client": 3})");
    EXPECT_EQ(fault_name(f.kind), kind);
    EXPECT_EQ(f.probability, 0.5);
    EXPECT_EQ(f.target->index, 3);
  }
  EXPECT_EQ(
      only_fault(R"({"kind": "loss", "at": "1s", "for": "2s", "probability": 1})").probability,
      1.0);

  Fault stall = only_fault(R"({"kind": "server_stall", "at": "3s", "for": "8s"})");
  EXPECT_EQ(stall.length, std::optional<Duration>(8s));
  EXPECT_FALSE(stall.target);

  Fault expire = only_fault(R"({"kind": "expire_session", "client": 0, "at": "1s"})");
  EXPECT_EQ(expire.target->index, 0);

  Fault store =
      only_fault(R"({"kind": "store_crash", "store": 0, "at": "1s", "restart_after": "2s"})");
  EXPECT_EQ(store.store, 0);
  EXPECT_TRUE(store.persist);
  EXPECT_EQ(store.restart_after, std::optional<Duration>(2s));
  store = only_fault(
      R"({"kind": "store_crash", "store": 0, "at": "1s", "restart_after": "2s", "persist": false})");
  EXPECT_FALSE(store.persist);
}

TEST(Scenario, ReadsClockChanges) {
  auto drift = [](const std::string& text) {
    return only_fault(R"({"kind": "clock", "client": 0, "at": "1s", "drift": ")" + text + R"("})")
        .clock.drift_ppm;
  };
  EXPECT_EQ(drift("2%"), 20000.0);
  EXPECT_EQ(drift("+1.5%"), 15000.0);
  EXPECT_EQ(drift("-500ppm"), -500.0);
  EXPECT_EQ(drift("0.1%"), 1000.0);
  EXPECT_EQ(drift("100%"), 1e6);
  EXPECT_EQ(drift("0.25ppm"), 0.25);

  auto jump = [](const std::string& text) {
    return only_fault(R"({"kind": "clock", "client": "server", "at": "1s", "jump": ")" + text +
                      R"("})")
        .clock.jump;
  };
  EXPECT_EQ(jump("+30s"), std::optional<Duration>(30s));
  EXPECT_EQ(jump("30s"), std::optional<Duration>(30s));
  EXPECT_EQ(jump("-5s"), std::optional<Duration>(-5s));

  Fault strobe = only_fault(R"({"kind": "clock", "client": "server", "at": "1s",
                                "strobe": {"swing": "1s", "period": "10ms", "for": "2s"}})");
  EXPECT_EQ(strobe.target->kind, Target::Kind::Server);
  ASSERT_TRUE(strobe.clock.strobe);
  EXPECT_EQ(strobe.clock.strobe->swing, 1s);
  EXPECT_EQ(strobe.clock.strobe->period, 10ms);
  EXPECT_EQ(strobe.clock.strobe->length, 2s);
  EXPECT_FALSE(strobe.clock.drift_ppm);
  EXPECT_FALSE(strobe.clock.jump);
}

TEST(Scenario, InvalidJsonNamesLineAndColumn) {
  std::string e = error_of("{\"algorithm\": \"recipe\",\n  \"clients\": }");
  EXPECT_EQ(e.rfind("invalid JSON at line 2, column 14: ", 0), 0u) << e;
  EXPECT_EQ(error_of("").rfind("invalid JSON at line 1, column 1: ", 0), 0u);
  EXPECT_EQ(error_of("[1, 2]"), "scenario: the document must be a JSON object, got [1,2]");
}

TEST(Scenario, CommentsAreAllowed) {
  Scenario s = parse_scenario("{ // the reference lock\n \"algorithm\": \"recipe\" /* ok */ }");
  EXPECT_EQ(s.algorithm, "recipe");
}

TEST(Scenario, DuplicateKeysAreRefused) {
  EXPECT_EQ(error_of(doc(R"("clients": 2, "clients": 3)")), "clients: duplicate key");
  EXPECT_EQ(error_of(with_fault(R"({"kind": "pause"}, {"kind": "pause", "at": "1s", "at": "2s"})")),
            "faults[1].at: duplicate key");
}

TEST(Scenario, AlgorithmIsRequiredAndChecked) {
  std::string e = error_of(R"({"algorithm": "foo"})");
  EXPECT_EQ(e.rfind(R"(algorithm: unknown algorithm "foo" (known: )", 0), 0u) << e;
  for (const AlgorithmInfo& a : algorithms()) EXPECT_NE(e.find(a.name), std::string::npos) << e;
  EXPECT_EQ(error_of("{}").rfind("algorithm: is required (known: ", 0), 0u);
  EXPECT_EQ(error_of(R"({"algorithm": 3})"), "algorithm: must be a string, got 3");
}

TEST(Scenario, UnknownKeysAreRefusedEverywhere) {
  EXPECT_EQ(error_of(doc(R"("frobnicate": 1)")), "frobnicate: unknown key");
  EXPECT_EQ(error_of(doc(R"("workload": {"cycle": 3})")), "workload.cycle: unknown key");
  EXPECT_EQ(error_of(doc(R"("network": {"latency": {"mean": "1ms"}})")),
            "network.latency.mean: unknown key");
  EXPECT_EQ(error_of(doc(R"("server": {"tick": "1s"})")), "server.tick: unknown key");
  EXPECT_EQ(error_of(doc(R"("resource": {"fence": true})")), "resource.fence: unknown key");
  EXPECT_EQ(error_of(doc(R"("nemesis": {"kinds": ["pause"], "rate": 1})")),
            "nemesis.rate: unknown key");
  EXPECT_EQ(
      error_of(with_fault(R"({"kind": "expire_session", "client": 0, "at": "1s",
                                     "for": "1s"})")),
      "faults[0].for: unknown key (expire_session takes kind, client, at, store, after_client)");
  EXPECT_EQ(error_of(with_fault(R"({"kind": "clock", "client": 0, "at": "1s",
                                     "strobe": {"swing": "1s", "period": "1s", "for": "1s",
                                                "phase": "0s"}})")),
            "faults[0].strobe.phase: unknown key");
}

TEST(Scenario, DurationsNeedAUnitAndNoSign) {
  EXPECT_EQ(error_of(doc(R"("workload": {"hold": "5"})")),
            R"(workload.hold: "5" is not a duration with a unit (ns, us, ms, s, m))");
  EXPECT_EQ(
      error_of(doc(R"("workload": {"hold": 5})")),
      R"(workload.hold: 5 is not a duration with a unit (ns, us, ms, s, m); write it as a string, e.g. "500ms")");
  EXPECT_EQ(error_of(doc(R"("workload": {"hold": "5 ms"})")),
            R"(workload.hold: "5 ms" is not a duration with a unit (ns, us, ms, s, m))");
  EXPECT_EQ(error_of(doc(R"("workload": {"think": "-5ms"})")),
            R"(workload.think: must not be negative, got "-5ms")");
  EXPECT_EQ(error_of(doc(R"("session_timeout": "-4s")")),
            R"(session_timeout: must not be negative, got "-4s")");
  EXPECT_EQ(error_of(doc(R"("duration": "0s")")), R"(duration: must be positive, got "0s")");
  EXPECT_EQ(error_of(doc(R"("server": {"tick_time": "0ms"})")),
            R"(server.tick_time: must be positive, got "0ms")");
  EXPECT_EQ(
      error_of(doc(R"("server": {"tick_time": "1500us"})")),
      R"(server.tick_time: must be a whole number of milliseconds (ZooKeeper counts it in ms), got "1500us")");
  EXPECT_EQ(parse_scenario(doc(R"("session_timeout": "1.5s")")).session_timeout, 1500ms);
  EXPECT_EQ(error_of(doc(R"("duration": "99999999999999m")")),
            R"(duration: must be at most 87600h (10 years), got "99999999999999m")");
  EXPECT_EQ(error_of(with_fault(R"({"kind": "pause", "client": 0, "at": "-1s", "for": "1s"})")),
            R"(faults[0].at: must not be negative, got "-1s")");
  EXPECT_EQ(parse_scenario(doc(R"("workload": {"hold": "250us"})")).workload.hold, 250us);
  EXPECT_EQ(parse_scenario(doc(R"("workload": {"hold": "10ns"})")).workload.hold, 10ns);
}

TEST(Scenario, IntegersAreRangeChecked) {
  EXPECT_EQ(error_of(doc(R"("clients": 0)")), "clients: must be at least 1, got 0");
  EXPECT_EQ(error_of(doc(R"("clients": 100001)")), "clients: must be at most 100000, got 100001");
  EXPECT_EQ(error_of(doc(R"("clients": "5")")), R"(clients: must be an integer, got "5")");
  EXPECT_EQ(error_of(doc(R"("clients": 2.5)")), "clients: must be an integer, got 2.5");
  EXPECT_EQ(error_of(doc(R"("workload": {"cycles": -1})")),
            "workload.cycles: must be at least 0, got -1");
  EXPECT_EQ(error_of(doc(R"("seed": -1)")), "seed: must be an unsigned integer, got -1");
  EXPECT_EQ(error_of(doc(R"("seed": 1.5)")), "seed: must be an unsigned integer, got 1.5");
}

TEST(Scenario, OtherValuesAreChecked) {
  EXPECT_EQ(error_of(doc(R"("lock_path": "locks/a")")),
            R"(lock_path: must be an absolute path starting with "/", got "locks/a")");
  EXPECT_EQ(error_of(doc(R"("lock_path": "/")")),
            R"(lock_path: must not be the root "/", got "/")");
  EXPECT_EQ(error_of(doc(R"("lock_path": "/a//b")")).rfind("lock_path: must not contain", 0), 0u);
  EXPECT_EQ(error_of(doc(R"("lock_path": "/a/")")).rfind("lock_path: must not end", 0), 0u);
  EXPECT_EQ(error_of(doc(R"("lock_path": "/a/../b")")).rfind("lock_path: must not contain", 0), 0u);
  EXPECT_EQ(error_of(doc(R"("lock_path": "/zookeeper/x")")).rfind("lock_path: must not be", 0), 0u);
  EXPECT_EQ(error_of(doc(R"("network": {"latency": {"min": "5ms", "max": "1ms"}})")),
            "network.latency.min: 5ms is above max 1ms");
  EXPECT_EQ(error_of(doc(R"("fencing": "token")")),
            R"(fencing: must be one of czxid, sequence, none, got "token")");
  EXPECT_EQ(error_of(doc(R"("resource": {"store": "other"})")),
            R"(resource.store: must be one of same, separate, got "other")");
  EXPECT_EQ(error_of(doc(R"("resource": {"fenced": "yes"})")),
            R"(resource.fenced: must be true or false, got "yes")");
  EXPECT_EQ(error_of(doc(R"("workload": [])")), "workload: must be an object, got []");
  EXPECT_EQ(error_of(doc(R"("faults": {})")), "faults: must be an array, got {}");
}

TEST(Scenario, BadFaultsAreNamedByEntry) {
  EXPECT_EQ(error_of(with_fault(R"({"kind": "pause", "client": 0, "at": "1s", "for": "1s"},
                                   {"kind": "pause", "client": 0, "at": "1s", "for": "1s"},
                                   {"kind": "explode", "at": "1s"})"))
                .rfind(R"(faults[2]: unknown fault kind "explode" (known: pause, crash, )", 0),
            0u);
  EXPECT_EQ(error_of(with_fault(R"({"kind": "pause", "client": 7, "at": "1s", "for": "1s"})")),
            "faults[0].client: client 7 out of range (clients: 5)");
  EXPECT_EQ(error_of(with_fault(R"({"kind": "pause", "client": -1, "at": "1s", "for": "1s"})")),
            "faults[0].client: client -1 out of range (clients: 5)");
  EXPECT_EQ(error_of(with_fault(R"({"kind": "crash", "client": 0, "at": "1s"},
                                   {"kind": "pause", "client": 0, "at": "1s"})")),
            R"(faults[1]: "for" is required for pause)");
  EXPECT_EQ(error_of(with_fault(R"({"kind": "pause", "client": 0, "for": "1s"})")),
            R"(faults[0]: "at" is required for pause)");
  EXPECT_EQ(error_of(with_fault(R"({"client": 0, "at": "1s"})"))
                .rfind(R"(faults[0]: "kind" is required)", 0),
            0u);
  EXPECT_EQ(
      error_of(with_fault(R"({"kind": "pause", "client": "server", "at": "1s",
                                     "for": "1s"})")),
      R"(faults[0].client: must be a client index, "holder", "holder#N", "holder@K" or "waiter", got "server")");
  EXPECT_EQ(error_of(with_fault(R"({"kind": "clock", "client": 0, "at": "1s"})")),
            R"(faults[0]: clock takes exactly one of "drift", "jump", "strobe")");
  EXPECT_EQ(error_of(with_fault(R"({"kind": "clock", "client": 0, "at": "1s", "drift": "2%",
                                     "jump": "1s"})")),
            R"(faults[0]: clock takes exactly one of "drift", "jump", "strobe")");
  EXPECT_EQ(error_of(with_fault(R"({"kind": "clock", "client": 0, "at": "1s", "drift": "2"})")),
            R"(faults[0].drift: "2" is not a clock drift (e.g. "2%", "-500ppm"))");
  EXPECT_EQ(error_of(with_fault(R"({"kind": "clock", "client": 0, "at": "1s", "drift": "-100%"})")),
            R"(faults[0].drift: must be above -100% (a clock cannot stop), got "-100%")");
  EXPECT_EQ(error_of(with_fault(R"({"kind": "clock", "client": 0, "at": "1s", "jump": "30"})")),
            R"(faults[0].jump: "30" is not a signed duration (e.g. "+30s", "-5s"))");
  EXPECT_EQ(error_of(with_fault(R"({"kind": "clock", "client": 0, "at": "1s",
                                     "strobe": {"swing": "1s", "period": "0s", "for": "1s"}})")),
            R"(faults[0].strobe.period: must be positive, got "0s")");
  EXPECT_EQ(error_of(with_fault(R"({"kind": "clock", "client": 0, "at": "1s",
                                     "strobe": {"swing": "1s", "for": "1s"}})")),
            R"(faults[0].strobe: "period" is required)");
  EXPECT_EQ(
      error_of(with_fault(R"({"kind": "loss", "at": "1s", "for": "1s", "probability": 1.5})")),
      "faults[0].probability: must be between 0 and 1, got 1.5");
  EXPECT_EQ(error_of(with_fault(R"({"kind": "partition", "client": 0, "at": "1s", "for": "1s",
                                     "direction": "in"})")),
            R"(faults[0].direction: must be one of both, to_server, from_server, got "in")");
  EXPECT_EQ(
      error_of(with_fault(R"({"kind": "drop_reply", "client": 0, "at": "1s", "op": "ping"})")),
      R"(faults[0].op: must be one of create, delete, set, get, exists, children, multi, got "ping")");
  EXPECT_EQ(error_of(with_fault(R"({"kind": "latency", "at": "1s", "for": "1s", "min": "9ms",
                                     "max": "1ms"})")),
            "faults[0].min: 9ms is above max 1ms");
  EXPECT_EQ(error_of(with_fault(R"({"kind": "store_crash", "store": -1, "at": "1s",
                                     "restart_after": "1s"})")),
            "faults[0].store: must be at least 0, got -1");
  EXPECT_EQ(error_of(with_fault("3")), "faults[0]: must be an object, got 3");
}

TEST(Scenario, StoreIndexIsCheckedAgainstTheAlgorithmsStores) {
  const AlgorithmInfo* recipe = &resolve_algorithm("recipe");
  std::string fault = R"({"kind": "store_crash", "store": )" + std::to_string(recipe->stores) +
                      R"(, "at": "1s", "restart_after": "1s"})";
  EXPECT_EQ(error_of(with_fault(fault)),
            "faults[0].store: store " + std::to_string(recipe->stores) +
                " out of range (stores: " + std::to_string(recipe->stores) + ")");
}

// Every fault that acts on a store's server or on the link to it names its store, and a
// store the algorithm lacks is refused with one line.
TEST(Scenario, StoreAwareFaultsNameTheirStore) {
  for (const char* fault :
       {R"({"kind": "partition", "client": 0, "at": "1s", "for": "1s", "store": 1})",
        R"({"kind": "latency", "at": "1s", "for": "1s", "min": "1ms", "max": "2ms", "store": 1})",
        R"({"kind": "loss", "at": "1s", "for": "1s", "probability": 0.5, "store": 1})",
        R"({"kind": "duplicate", "at": "1s", "for": "1s", "probability": 0.5, "store": 1})",
        R"({"kind": "drop_reply", "client": 0, "at": "1s", "store": 1})",
        R"({"kind": "expire_session", "client": 0, "at": "1s", "store": 1})"}) {
    SCOPED_TRACE(fault);
    EXPECT_EQ(error_of(with_fault(fault)), "faults[0].store: store 1 out of range (stores: 1)");
    const std::string five = R"({"algorithm": "redlock", "options": {"stores": 5}, "faults": [)" +
                             std::string(fault) + "]}";
    Scenario s = parse_scenario(five);
    ASSERT_EQ(s.faults.size(), 1u);
    EXPECT_EQ(s.faults[0].store, std::optional<int>(1));
    EXPECT_TRUE(parse_scenario(scenario_to_json(s)) == s);
  }
  Fault every = only_fault(R"({"kind": "partition", "client": 0, "at": "1s", "for": "1s"})");
  EXPECT_FALSE(every.store) << "absent: every store";
}

TEST(Scenario, NemesisKindsMustBeFaultKinds) {
  EXPECT_EQ(error_of(doc(R"("nemesis": {"kinds": ["pause", "explode"]})"))
                .rfind(R"(nemesis.kinds[1]: unknown fault kind "explode" (known: )", 0),
            0u);
  EXPECT_EQ(error_of(doc(R"("nemesis": {"kinds": []})")),
            "nemesis.kinds: must be a non-empty array of fault kinds, got []");
  EXPECT_EQ(error_of(doc(R"("nemesis": {})")).rfind(R"(nemesis: "kinds" is required)", 0), 0u);
  Scenario s = parse_scenario(doc(R"("nemesis": {"kinds": ["server_stall"]})"));
  EXPECT_TRUE(s.nemesis.enabled);
  EXPECT_EQ(s.nemesis.mean_interval, 2s);
  EXPECT_EQ(s.nemesis.quiet_after, 60s);
  EXPECT_EQ(fault_kinds().size(), 11u);
}

Scenario every_key_scenario() {
  Scenario s;
  s.algorithm = "zk-slow";
  s.seed = 99;
  s.clients = 6;
  s.session_timeout = 3500ms;
  s.lock_path = "/x/y";
  s.workload = {7, 1500us, 0ns, 90s};
  s.network.latency = {1ms, 1ms};
  s.server = {1s, 250ms};
  s.resource = {true, false, true};
  s.fencing = "none";
  s.duration = 10s;
  s.nemesis = {true, {FaultKind::Pause, FaultKind::Loss}, 1s, 20s};
  auto add = [&](std::string kind, auto fill) {
    Fault f;
    f.kind = find_fault(kind)->kind;
    f.at = 1s;
    fill(f);
    s.faults.push_back(f);
  };
  add("pause", [](Fault& f) { f.target = Target{Target::Kind::Holder, 0}, f.length = 10s; });
  add("crash", [](Fault& f) { f.target = Target{Target::Kind::Index, 5}; });
  add("crash", [](Fault& f) { f.target = Target{Target::Kind::Index, 0}, f.restart_after = 1s; });
  add("clock", [](Fault& f) { f.target = Target{Target::Kind::Server, 0}, f.clock.jump = -5s; });
  add("clock", [](Fault& f) { f.target = Target{Target::Kind::Index, 1}, f.clock.jump = 5s; });
  add("clock", [](Fault& f) { f.target = Target{}, f.clock.drift_ppm = -0.125; });
  add("clock", [](Fault& f) {
    f.target = Target{Target::Kind::Waiter, 0}, f.clock.strobe = {{1s, 10ms, 2s}};
  });
  add("partition",
      [](Fault& f) { f.target = Target{}, f.length = 2s, f.direction = "from_server"; });
  add("drop_reply", [](Fault& f) { f.target = Target{}, f.op = "multi"; });
  add("drop_reply", [](Fault& f) { f.target = Target{}; });
  add("latency", [](Fault& f) { f.length = 1s, f.latency = {3ms, 30ms}; });
  add("loss", [](Fault& f) { f.length = 1s, f.probability = 0.1, f.target = Target{}; });
  add("duplicate", [](Fault& f) { f.length = 1s, f.probability = 1; });
  add("server_stall", [](Fault& f) { f.length = 8s; });
  add("expire_session", [](Fault& f) { f.target = Target{Target::Kind::Index, 2}; });
  add("store_crash", [](Fault& f) { f.store = 0, f.restart_after = 0s, f.persist = false; });
  return s;
}

TEST(Scenario, RoundTripsThroughJson) {
  Scenario defaults;
  EXPECT_TRUE(parse_scenario(scenario_to_json(defaults)) == defaults);

  Scenario s = every_key_scenario();
  std::string text = scenario_to_json(s);
  Scenario back = parse_scenario(text);
  EXPECT_EQ(back.faults.size(), s.faults.size());
  for (size_t i = 0; i < s.faults.size() && i < back.faults.size(); ++i)
    EXPECT_TRUE(back.faults[i] == s.faults[i]) << "fault " << i << " in\n" << text;
  EXPECT_TRUE(back == s) << text;
  EXPECT_EQ(scenario_to_json(back), text);

  // Option text goes out as JSON where it reads back as the same text, as a string
  // otherwise; checked on the options object alone, whatever the catalogue takes.
  for (std::string v : {"10s", "5", "0.5", "true", "[1,2]", R"({"a":1})", "null", R"("q")", "05",
                        "1e5", " 5", ""}) {
    Scenario o;
    o.options.set("k", v);
    auto out = nlohmann::json::parse(scenario_to_json(o));
    EXPECT_EQ(parse_options(out["options"].dump()).all(), o.options.all()) << v;
  }
}

TEST(Scenario, LoadScenarioReadsAFileAndNamesAnUnreadableOne) {
  std::string path = testing::TempDir() + "scenario_test_load.json";
  {
    std::ofstream out(path);
    out << R"({"algorithm": "zk-fast", "clients": 2})";
  }
  EXPECT_EQ(load_scenario(path).clients, 2);
  std::filesystem::remove(path);
  try {
    load_scenario(path);
    ADD_FAILURE() << "no error for a missing file";
  } catch (const ScenarioError& e) {
    EXPECT_EQ(e.message, path + ": cannot read: No such file or directory");
  }
}

// Every example the documentation ships must load and survive the round trip.
TEST(Scenario, DocumentedExamplesLoad) {
  auto dir = std::filesystem::path(__FILE__).parent_path().parent_path() / "docs" / "examples";
  if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << dir << " not found";
  int seen = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    ++seen;
    SCOPED_TRACE(entry.path().string());
    try {
      Scenario s = load_scenario(entry.path().string());
      EXPECT_TRUE(parse_scenario(scenario_to_json(s)) == s);
    } catch (const ScenarioError& e) {
      ADD_FAILURE() << e.message;
    }
  }
  EXPECT_GT(seen, 0);
}

Duration gen_duration(int64_t lo, int64_t hi) {
  // Mostly round values (as people write them), sometimes any nanosecond count.
  static const int64_t scales[] = {1, 1'000, 1'000'000, 1'000'000'000, 60'000'000'000};
  int64_t scale = scales[*rc::gen::inRange(0, 5)];
  int64_t v = *rc::gen::inRange<int64_t>(lo / scale + (lo % scale ? 1 : 0), hi / scale + 1);
  return Duration(v * scale);
}

Target gen_target(int clients, bool server_ok) {
  int which = *rc::gen::inRange(0, server_ok ? 4 : 3);
  if (which == 0) return Target{Target::Kind::Holder, 0};
  if (which == 1) return Target{Target::Kind::Waiter, 0};
  if (which == 3) return Target{Target::Kind::Server, 0};
  return Target{Target::Kind::Index, *rc::gen::inRange(0, clients)};
}

RC_GTEST_PROP(ScenarioProperty, AnyValidScenarioRoundTrips, ()) {
  const auto& algos = algorithms();
  Scenario s;
  const AlgorithmInfo& a = algos[*rc::gen::inRange<size_t>(0, algos.size())];
  s.algorithm = a.name;
  // "stores" is left out: it changes which store_crash entries are valid.
  for (const OptionSpec& spec : a.options)
    if (spec.key != "stores" && *rc::gen::arbitrary<bool>())
      s.options.set(spec.key, *rc::gen::container<std::string>(rc::gen::inRange(' ', '~')));
  s.seed = *rc::gen::arbitrary<uint64_t>();
  s.clients = *rc::gen::inRange(1, 1001);
  s.session_timeout = gen_duration(1, 100'000) * 1'000'000;  // whole milliseconds
  s.lock_path =
      "/" + *rc::gen::nonEmpty(rc::gen::container<std::string>(rc::gen::inRange('a', '{')));
  s.workload = {*rc::gen::inRange(0, 1000), gen_duration(0, 10'000'000'000),
                gen_duration(0, 10'000'000'000), gen_duration(0, 100'000'000'000)};
  s.network.latency.min = gen_duration(0, 10'000'000);
  s.network.latency.max = s.network.latency.min + gen_duration(0, 10'000'000);
  s.server = {gen_duration(1, 10'000) * 1'000'000, gen_duration(1, 10'000'000'000)};
  s.resource.enabled = *rc::gen::arbitrary<bool>();
  if (s.resource.enabled)
    s.resource = {true, *rc::gen::arbitrary<bool>(), *rc::gen::arbitrary<bool>()};
  s.fencing = *rc::gen::element<std::string>("", "czxid", "sequence", "none");
  s.duration = gen_duration(1, 1'000'000'000'000);
  if (*rc::gen::arbitrary<bool>()) {
    s.nemesis.enabled = true;
    s.nemesis.kinds = *rc::gen::nonEmpty(
        rc::gen::container<std::vector<FaultKind>>(rc::gen::elementOf(fault_kinds())));
    s.nemesis.quiet_after = gen_duration(0, 100'000'000'000);
    // The parser refuses an interval that would draw more than kMaxNemesisFaults / 2.
    const int64_t least =
        std::min(s.nemesis.quiet_after, s.duration).count() / int64_t{kMaxNemesisFaults / 2} + 1;
    s.nemesis.mean_interval = gen_duration(least, std::max(least, int64_t{10'000'000'000}));
  }
  int n = *rc::gen::inRange(0, 6);
  for (int i = 0; i < n; ++i) {
    Fault f;
    f.kind = *rc::gen::elementOf(fault_kinds());
    f.at = gen_duration(0, 100'000'000'000);
    const std::string k(fault_name(f.kind));
    bool client_required = k == "pause" || k == "crash" || k == "clock" || k == "partition" ||
                           k == "drop_reply" || k == "expire_session";
    bool client_optional = k == "latency" || k == "loss" || k == "duplicate";
    if (client_required || (client_optional && *rc::gen::arbitrary<bool>()))
      f.target = gen_target(s.clients, k == "clock");
    if (k == "pause" || k == "partition" || k == "latency" || k == "loss" || k == "duplicate" ||
        k == "server_stall")
      f.length = gen_duration(0, 100'000'000'000);
    if (k == "store_crash" || (k == "crash" && *rc::gen::arbitrary<bool>()))
      f.restart_after = gen_duration(0, 100'000'000'000);
    if (k == "partition")
      f.direction = *rc::gen::element<std::string>("both", "to_server", "from_server");
    if (k == "drop_reply")
      f.op = *rc::gen::element<std::string>("", "create", "delete", "set", "get", "exists",
                                            "children", "multi");
    if (k == "latency") {
      f.latency.min = gen_duration(0, 1'000'000'000);
      f.latency.max = f.latency.min + gen_duration(0, 1'000'000'000);
    }
    if (k == "loss" || k == "duplicate") f.probability = *rc::gen::inRange(0, 1'000'001) / 1e6;
    if (k == "clock") {
      int which = *rc::gen::inRange(0, 3);
      if (which == 0) f.clock.drift_ppm = *rc::gen::inRange(-999'999'000, 1'000'000'000) / 1e3;
      if (which == 1)
        f.clock.jump = gen_duration(0, 100'000'000'000) * (*rc::gen::arbitrary<bool>() ? 1 : -1);
      if (which == 2)
        f.clock.strobe = {{gen_duration(0, 10'000'000'000), gen_duration(1, 1'000'000'000),
                           gen_duration(0, 10'000'000'000)}};
    }
    if (k == "store_crash") {
      f.store = *rc::gen::inRange(0, a.stores);
      f.persist = *rc::gen::arbitrary<bool>();
    }
    s.faults.push_back(f);
  }
  std::string text = scenario_to_json(s);
  RC_LOG() << text;
  RC_ASSERT(parse_scenario(text) == s);
}

}  // namespace
}  // namespace lockstep::sim
