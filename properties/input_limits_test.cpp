// Every outside input is refused or survived (issue 19): JSON beyond a double or deeper
// than kMaxJsonDepth, control characters echoed in messages, durations beyond
// kMaxInputDuration, time arithmetic that saturates instead of wrapping, option values out
// of range, a nemesis that cannot draw for ever, and the event budget that ends any run.
// The property at the end runs scenarios made of extreme values (zero, one, the maxima).
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <climits>
#include <string>

#include "core/json.h"
#include "core/lock.h"
#include "core/options.h"
#include "core/time.h"
#include "sim/faults/injector.h"
#include "sim/faults/live_form.h"
#include "sim/run.h"
#include "sim/scenario.h"

namespace lockstep::sim {
namespace {

std::string error_of(const std::string& text) {
  try {
    parse_scenario(text);
  } catch (const ScenarioError& e) {
    return e.message;
  }
  return "";
}

std::string doc(const std::string& rest) { return R"({"algorithm": "recipe", )" + rest + "}"; }

// --- JSON -------------------------------------------------------------------------------

TEST(InputLimitsJson, NumbersBeyondADoubleNameTheirPlace) {
  EXPECT_EQ(error_of(doc(R"("seed": 1e309)")),
            "invalid JSON at line 1, column 33: number 1e309 is beyond the range of a double "
            "(about 1.8e308)");
  EXPECT_EQ(error_of("{\"algorithm\": \"recipe\",\n \"faults\": [{\"probability\": -1e309}]}"),
            "invalid JSON at line 2, column 29: number -1e309 is beyond the range of a double "
            "(about 1.8e308)");
  // A 400-digit integer is beyond a double too; 1e308 and 1e-400 (zero) are numbers.
  EXPECT_NE(error_of(doc(R"("seed": )" + std::string(400, '9'))).find("beyond the range"),
            std::string::npos);
  EXPECT_EQ(error_of(doc(R"("seed": 1e308)")), "seed: must be an unsigned integer, got 1e+308");
  EXPECT_EQ(error_of(doc(R"("clients": 1e-400)")), "clients: must be an integer, got 0.0");
  // In a string or a comment, it is text.
  EXPECT_EQ(json_limits_problem(R"({"a": "1e309"} // 1e309)"), std::nullopt);
  EXPECT_EQ(json_limits_problem("{/* [[[[ 1e999 */}"), std::nullopt);
}

TEST(InputLimitsJson, NestingDeeperThanTheLimitIsRefusedNotACrash) {
  auto nested = [](int depth) {
    return doc(R"("options": {"x": )" + std::string(depth, '[') + "1" + std::string(depth, ']') +
               "}");
  };
  // The document's own object and "options" are two levels.
  EXPECT_EQ(error_of(nested(kMaxJsonDepth - 2)).find("nested"), std::string::npos);
  EXPECT_EQ(error_of(nested(kMaxJsonDepth - 1)),
            "invalid JSON at line 1, column 104: nested deeper than 64 levels (the limit)");
  for (int depth : {1000, 200000}) {
    EXPECT_NE(error_of(nested(depth)).find("nested deeper than 64 levels"), std::string::npos);
    EXPECT_NE(error_of(std::string(depth, '{')).find("nested deeper"), std::string::npos);
  }
  EXPECT_NE(error_of(std::string(100000, '[')).find("line 1, column 65: nested"),
            std::string::npos);
}

TEST(InputLimitsJson, EchoedKeysAndValuesStayOnOneLine) {
  EXPECT_EQ(error_of(doc("\"k\\ney\": 1")), R"(k\ney: unknown key)");
  EXPECT_EQ(error_of(doc("\"workload\": {\"x\\u0001\": 1}")), R"(workload.x\u0001: unknown key)");
  EXPECT_EQ(error_of(doc("\"options\": {\"a\\nb\": 1}")),
            R"(options.a\nb: unknown option (known for recipe: handoff))");
  EXPECT_EQ(error_of(doc("\"lock_path\": \"/a\\nb\"")),
            R"(lock_path: contains a character ZooKeeper does not allow in paths, got "/a\nb")");
  EXPECT_EQ(one_line("a\nb\tc\x01\"\\"), "a\\nb\\tc\\u0001\"\\");
  try {
    validate_options({}, Options(std::map<std::string, std::string>{{"bad\nkey", "1"}}));
    ADD_FAILURE() << "an unknown option was accepted";
  } catch (const OptionError& e) {
    EXPECT_EQ(e.key, "bad\\nkey");
  }
}

// --- time ------------------------------------------------------------------------------

TEST(InputLimitsTime, ArithmeticSaturatesAtTheHorizon) {
  const Duration max = Duration::max(), h = kTimeHorizon;
  EXPECT_EQ(add_sat(max, max), h);
  EXPECT_EQ(add_sat(-max, -max), -h);
  EXPECT_EQ(add_sat(h, Duration(1)), h);
  EXPECT_EQ(add_sat(1s, 2s), 3s);
  EXPECT_EQ(sub_sat(-h, h), -h);
  EXPECT_EQ(sub_sat(h, -max), h);
  EXPECT_EQ(sub_sat(5s, 7s), -2s);
  EXPECT_EQ(mul_sat(kMaxInputDuration, 1000 * 22), h);
  EXPECT_EQ(mul_sat(kMaxInputDuration, -1000 * 22), -h);
  EXPECT_EQ(mul_sat(-max, -2), h);
  EXPECT_EQ(mul_sat(2s, 20), 40s);
  EXPECT_EQ(scale_sat(kMaxInputDuration, 1e300), h);
  EXPECT_EQ(scale_sat(kMaxInputDuration, -1e300), -h);
  EXPECT_EQ(scale_sat(10s, 0.01), 100ms);
  EXPECT_EQ(scale_sat(10s, std::numeric_limits<double>::quiet_NaN()), Duration(0));
  EXPECT_EQ(from_double_ns(1e30), h);
  // Nine fraction digits of an hour or a minute: exact, not wrapped around.
  EXPECT_EQ(parse_duration("0.123456789h"), Duration(444'444'440'400));
  EXPECT_EQ(parse_duration("0.999999999m"), Duration(59'999'999'940));
  EXPECT_EQ(parse_duration("2562047h"), std::chrono::hours(2562047));
  EXPECT_EQ(parse_duration("2562047.9999h"), std::nullopt);  // beyond int64 nanoseconds
  // The horizon leaves a reading plus a dozen inputs inside int64 nanoseconds.
  EXPECT_LT(h.count(), INT64_MAX - 12 * kMaxInputDuration.count());
}

TEST(InputLimitsTime, EveryDurationKeyHasTheMaximum) {
  const std::string max = R"("87600h")", over = R"("87600.000000001h")";
  const std::string limit = "must be at most 87600h (10 years), got ";
  EXPECT_EQ(error_of(doc(R"("workload": {"hold": "87601h"})")),
            "workload.hold: " + limit + "\"87601h\"");
  EXPECT_EQ(error_of(doc(R"("duration": )" + over)), "duration: " + limit + over);
  EXPECT_EQ(error_of(doc(R"("session_timeout": "9223372036854775807ns")")),
            "session_timeout: " + limit + "\"9223372036854775807ns\"");
  EXPECT_EQ(error_of(doc(R"("session_timeout": "9223372036854775808ns")")),
            "session_timeout: " + limit + "\"9223372036854775808ns\"");
  EXPECT_EQ(error_of(doc(R"("faults": [{"kind": "pause", "client": 0, "at": "1s", "for": )" + over +
                         "}]")),
            "faults[0].for: " + limit + over);
  EXPECT_EQ(
      error_of(doc(R"("faults": [{"kind": "clock", "client": 0, "at": "0s", "jump": "-87601h"}])")),
      "faults[0].jump: " + limit + "\"-87601h\"");
  EXPECT_EQ(
      error_of(doc(
          R"("faults": [{"kind": "clock", "client": 0, "at": "0s", "jump": "-99999999999999999999h"}])")),
      "faults[0].jump: " + limit + "\"-99999999999999999999h\"");
  Scenario s = parse_scenario(doc(R"("duration": )" + max + R"(, "workload": {"hold": )" + max +
                                  R"(}, "server": {"tick_time": )" + max + "}"));
  EXPECT_EQ(s.duration, kMaxInputDuration);
  EXPECT_EQ(s.server.tick_time, kMaxInputDuration);
}

TEST(InputLimitsOptions, ValuesBeyondTheirTypeAreRefused) {
  auto problem = [](const std::string& algo, const std::string& key, const std::string& value) {
    const AlgorithmInfo& a = resolve_algorithm(algo);
    try {
      a.validate(Options(std::map<std::string, std::string>{{key, value}}));
    } catch (const OptionError& e) {
      return e.problem;
    }
    return std::string();
  };
  EXPECT_EQ(problem("redlock", "tries", "99999999999999999999"), "is beyond a 64-bit integer");
  EXPECT_EQ(problem("redlock", "drift_factor", "nan"), "is not a finite number");
  EXPECT_EQ(problem("redlock", "drift_factor", "inf"), "is not a finite number");
  EXPECT_EQ(problem("redlock", "drift_factor", "1e309"), "is not a finite number");
  EXPECT_EQ(problem("redlock", "drift_factor", "1e300"), "");  // saturates where it is used
  EXPECT_EQ(problem("redlock", "expiry", "87601h"), "must be at most 87600h (10 years)");
  EXPECT_EQ(problem("zk-ttl", "ttl", "9223372036854775"), "must be at most 87600h (10 years)");
  EXPECT_EQ(problem("zk-ttl", "ttl", "315360000000"), "");
  // The zoo's one option, and a key with a newline (escaped where it is echoed).
  for (const char* zoo : {"curator-678", "kazoo-170", "aiozk-48"}) {
    EXPECT_EQ(problem(zoo, "bug", "maybe"), "is not true or false") << zoo;
    EXPECT_EQ(problem(zoo, "bug", "true\n"), "is not true or false") << zoo;
    EXPECT_EQ(problem(zoo, "bug", "false"), "") << zoo;
  }
}

TEST(InputLimitsLiveFault, DurationsAndClientsBeyondTheLimitsAreRefused) {
  auto problem = [](const std::string& text) {
    try {
      parse_live_fault(text, 3);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(problem("pause:0:1s:87601h").find("longer than 87600h"), std::string::npos);
  EXPECT_NE(problem("pause:99999999999999999999:1s:1s").find("is not holder, waiter or 0..2"),
            std::string::npos);
  EXPECT_NE(problem("pause:4294967296:1s:1s").find("is not holder, waiter or 0..2"),
            std::string::npos);
  EXPECT_EQ(problem("pause:2:1s:87600h"), "");
}

// --- every run ends --------------------------------------------------------------------

TEST(InputLimitsNemesis, AnIntervalThatWouldDrawWithoutEndIsRefused) {
  EXPECT_EQ(error_of(doc(R"("nemesis": {"kinds": ["pause"], "mean_interval": "1ns"})")),
            "nemesis.mean_interval: 1ns would draw about 60000000000 faults before 1m (the "
            "limit is 50000: make it at least 1200us)");
  EXPECT_EQ(error_of(doc(R"("nemesis": {"kinds": ["pause"], "mean_interval": "1200us"})")), "");
}

TEST(InputLimitsNemesis, QuietAfterFarBeyondTheDurationEnds) {
  // The draws stop at the run's end, however late quiet_after is.
  Scenario s = parse_scenario(doc(R"("duration": "10s", "workload": {"cycles": 2},
    "nemesis": {"kinds": ["pause", "clock", "latency"], "mean_interval": "1ms", "quiet_after": "87600h"})"));
  std::vector<Fault> drawn = FaultInjector::draw_nemesis(s);
  EXPECT_GT(drawn.size(), 100u);
  EXPECT_LE(drawn.size(), 20000u);
  for (const Fault& f : drawn) EXPECT_LE(f.at, s.duration);
  RunResult r = run_scenario(s, RunOptions{.keep_trace = false});
  EXPECT_FALSE(r.verdicts.empty());
  // The largest mean_interval with the largest quiet_after: the sum saturates, no wrap.
  s = parse_scenario(doc(R"("duration": "87600h", "workload": {"cycles": 1},
    "nemesis": {"kinds": ["pause"], "mean_interval": "87600h", "quiet_after": "87600h"})"));
  EXPECT_LE(FaultInjector::draw_nemesis(s).size(), 2u);
}

TEST(InputLimitsBudget, ARunThatWouldNotEndStopsAtTheBudgetWithOneLine) {
  // Two billion cycles each for a thousand clients, and a strobe every nanosecond.
  Scenario s = parse_scenario(doc(R"("duration": "87600h", "clients": 1000,
    "workload": {"cycles": 2147483647}, "faults": [{"kind": "clock", "client": 0, "at": "0s",
    "strobe": {"swing": "1ms", "period": "1ns", "for": "87600h"}}])"));
  try {
    run_scenario(s, RunOptions{.keep_trace = false, .event_budget = 100000});
    ADD_FAILURE() << "the run did not stop at its budget";
  } catch (const ScenarioError& e) {
    EXPECT_EQ(e.message.rfind("the run reached its budget of 100000 simulated steps", 0), 0u)
        << e.message;
    EXPECT_EQ(e.message.find('\n'), std::string::npos);
  }
}

TEST(InputLimitsBudget, AStrobeQueuesOnlyTheSwingsTheRunReaches) {
  // A swing every nanosecond for ten years: 3e17 events if queued up front (it ran out of
  // memory). Only those up to the run's end are, so a 10us run ends with its verdict...
  const std::string strobe = R"("workload": {"cycles": 1}, "faults": [{"kind": "clock",
    "client": 0, "at": "0s", "strobe": {"swing": "1ms", "period": "1ns", "for": "87600h"}}])";
  RunResult r = run_scenario(parse_scenario(doc(R"("duration": "10us", )" + strobe)),
                             RunOptions{.keep_trace = false});
  EXPECT_FALSE(r.verdicts.empty());
  EXPECT_GT(r.stats.events, 10000);
  EXPECT_LT(r.stats.events, 20000);
  // ... and a 10-year one stops at its budget: no more swings are queued than it has steps.
  try {
    run_scenario(parse_scenario(doc(R"("duration": "87600h", )" + strobe)),
                 RunOptions{.keep_trace = false, .event_budget = 100000});
    ADD_FAILURE() << "the run did not stop at its budget";
  } catch (const ScenarioError& e) {
    EXPECT_EQ(e.message.rfind("the run reached its budget of 100000 simulated steps", 0), 0u)
        << e.message;
  }
}

// Zero, one, and the maxima: a scenario the parser accepts ends with a verdict, within its
// duration and the event budget, or is refused at the budget with one line. Never a crash,
// a hang or an exception of another kind (UBSan sees the arithmetic: scripts/test --sanitize).
std::string extreme_duration(bool positive) {
  static const char* kAll[] = {"0s", "1ns", "1ms", "1s", "87600h", "87599h"};
  return std::string("\"") + kAll[*rc::gen::inRange(positive ? 1 : 0, 6)] + "\"";
}
std::string extreme_millis() {
  return std::string("\"") + *rc::gen::element<std::string>("1ms", "2ms", "1s", "87600h") + "\"";
}

RC_GTEST_PROP(InputLimitsProperty, EveryAcceptedExtremeScenarioEnds, ()) {
  const std::string algo =
      *rc::gen::element<std::string>("recipe", "zk-slow", "zk-ttl", "redlock", "lease-fenced",
                                     "etcd-session", "curator-678", "kazoo-170", "aiozk-48");
  const int clients = *rc::gen::element(1, 2, 1000);
  const int64_t cycles = *rc::gen::element<int64_t>(0, 1, 2, INT_MAX);
  std::string text =
      R"({"algorithm": ")" + algo + R"(", "clients": )" + std::to_string(clients) +
      R"(, "seed": )" + *rc::gen::element<std::string>("0", "1", "18446744073709551615") +
      R"(, "session_timeout": )" + extreme_millis() + R"(, "workload": {"cycles": )" +
      std::to_string(cycles) + R"(, "hold": )" + extreme_duration(false) + R"(, "think": )" +
      extreme_duration(false) + R"(, "acquire_timeout": )" + extreme_duration(false) + "}" +
      R"(, "network": {"latency": {"min": "0s", "max": )" + extreme_duration(false) + "}}" +
      R"(, "server": {"tick_time": )" + extreme_millis() + R"(, "ttl_check_interval": )" +
      extreme_duration(true) + "}" + R"(, "resource": {"store": ")" +
      *rc::gen::element<std::string>("same", "separate") + R"("})" + R"(, "duration": )" +
      extreme_duration(true);
  if (algo == "redlock")
    text += R"(, "options": {"drift_factor": )" +
            *rc::gen::element<std::string>("0", "1", "1e300") + R"(, "expiry": )" +
            extreme_duration(true) + "}";
  if (algo == "curator-678" || algo == "kazoo-170" || algo == "aiozk-48")
    text += R"(, "options": {"bug": )" + *rc::gen::element<std::string>("true", "false") + "}";
  if (*rc::gen::arbitrary<bool>())
    text += R"(, "nemesis": {"kinds": ["pause", "crash", "clock", "partition", "latency",
              "loss", "server_stall", "expire_session", "drop_reply"], "mean_interval": )" +
            extreme_duration(true) + R"(, "quiet_after": )" + extreme_duration(false) + "}";
  const std::string at = extreme_duration(false), length = extreme_duration(false);
  const std::string drift = *rc::gen::element<std::string>("-99.9999%", "100000%", "0ppm");
  text += R"(, "faults": [
    {"kind": "pause", "client": "holder", "at": )" +
          at + R"(, "for": )" + length + R"(},
    {"kind": "crash", "client": 0, "at": )" +
          at + R"(, "restart_after": )" + length + R"(},
    {"kind": "clock", "client": 0, "at": "0s", "drift": ")" +
          drift + R"("},
    {"kind": "clock", "client": "server", "at": )" +
          at + R"(, "jump": "-87600h"},
    {"kind": "clock", "client": 0, "at": )" +
          at + R"(, "jump": "+87600h"},
    {"kind": "latency", "at": )" +
          at + R"(, "for": )" + length + R"(, "min": "87600h", "max": "87600h"},
    {"kind": "latency", "at": )" +
          at + R"(, "for": )" + length + R"(, "min": "87600h", "max": "87600h"},
    {"kind": "clock", "client": 0, "at": )" +
          at + R"(, "strobe": {"swing": "87600h", "period": )" + extreme_duration(true) +
          R"(, "for": )" + length + R"(}}]})";
  RC_LOG() << text;
  Scenario s;
  try {
    s = parse_scenario(text);
  } catch (const ScenarioError&) {
    RC_SUCCEED("refused by the parser");
  }
  constexpr uint64_t kBudget = 200'000;
  try {
    RunResult r = run_scenario(s, RunOptions{.keep_trace = false, .event_budget = kBudget});
    RC_ASSERT(!r.verdicts.empty());
    RC_ASSERT(static_cast<uint64_t>(r.stats.events) <= kBudget);
    RC_ASSERT(r.stats.virtual_time <= s.duration);
  } catch (const ScenarioError& e) {
    RC_ASSERT(e.message.find("simulated steps") != std::string::npos);
  } catch (const OptionError&) {
    // An option below its bound (expiry 1ns) is refused as the run starts.
  }
}

}  // namespace
}  // namespace lockstep::sim
