// The catalogue is the single source of algorithm facts: options are checked against
// their declarations (type, bounds, choices) up front, whether or not a lock would ever
// read them in a given run; unknown keys are refused; each algorithm's declared defaults
// read back as what the lock gets without options; and `lockstep algorithms` shows them.
#include <gtest/gtest.h>

#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/lock.h"
#include "core/options.h"
#include "sim/run.h"
#include "sim/scenario.h"

namespace lockstep {
namespace {

// The OptionError `validate` throws for these options of `algorithm`; "" if none.
std::string refusal(const std::string& algorithm, std::map<std::string, std::string> options) {
  try {
    resolve_algorithm(algorithm).validate(Options(std::move(options)));
  } catch (const OptionError& e) {
    return e.key + ": " + e.problem;
  }
  return "";
}

TEST(CatalogueOptions, ValuesAreCheckedAgainstTheirDeclarations) {
  EXPECT_EQ(refusal("redlock", {{"tries", "0"}}), "tries: must be between 1 and 1000000");
  EXPECT_EQ(refusal("redlock", {{"tries", "many"}}), "tries: is not an integer");
  EXPECT_EQ(refusal("redlock", {{"expiry", "0s"}}), "expiry: must be at least 1ms");
  EXPECT_EQ(refusal("redlock", {{"drift_factor", "-0.1"}}), "drift_factor: must not be negative");
  EXPECT_EQ(refusal("redlock", {{"timeout_factor", "0"}}), "timeout_factor: must be positive");
  EXPECT_EQ(refusal("redlock", {{"stores", "65"}}), "stores: must be between 1 and 64");
  EXPECT_EQ(refusal("redlock", {{"retry_delay_min", "200ms"}}),
            "retry_delay_max: must not be below retry_delay_min");
  EXPECT_EQ(refusal("lease-fenced", {{"fencing", "maybe"}}),
            "fencing: is not true, false or mixed");
  EXPECT_EQ(refusal("lease-fenced", {{"lease", "soon"}}),
            R"(lease: is not a duration with a unit (e.g. "500ms"))");
  EXPECT_EQ(refusal("zk-ttl", {{"ttl", "-5"}}), "ttl: must not be negative");
  EXPECT_EQ(refusal("etcd-session", {{"ttl", "5"}}),
            R"(ttl: is not a duration with a unit (e.g. "500ms"))");
  EXPECT_EQ(refusal("zk-ttl", {{"ttl", "2500"}, {"owner", "anything goes"}}), "");
}

TEST(CatalogueOptions, UnknownKeyIsRefused) {
  EXPECT_EQ(refusal("redlock", {{"frobnicate", "1"}}), "frobnicate: unknown option");
  EXPECT_EQ(refusal("recipe", {{"ttl", "1s"}}), "ttl: unknown option");
}

// Every declared option with a type other than text is checked by its declaration, so a
// malformed value is refused whatever the lock does with it (before this, options were
// found bad by running one client for one cycle, which missed what it never read).
TEST(CatalogueOptions, EveryTypedOptionRefusesGarbage) {
  for (const AlgorithmInfo& a : algorithms())
    for (const OptionSpec& o : a.options) {
      if (o.type == OptionType::Text) continue;
      try {
        a.validate(Options({{o.key, "garbage"}}));
        ADD_FAILURE() << a.name << " took " << o.key << "=garbage";
      } catch (const OptionError& e) {
        EXPECT_EQ(e.key, o.key) << a.name;
        EXPECT_FALSE(e.problem.empty());
      }
    }
}

// A run refuses a bad option before any client starts: here no client ever makes a lock
// (no cycles), so a lock that read its option lazily could not have said so.
TEST(CatalogueOptions, ARunRefusesABadOptionNoLockWouldRead) {
  const sim::Scenario s = sim::parse_scenario(R"({"algorithm": "redlock", "clients": 1,
      "workload": {"cycles": 0}, "options": {"retry_delay_max": "1ms"}})");
  try {
    sim::run_scenario(s, {.keep_trace = false});
    ADD_FAILURE() << "the run did not refuse retry_delay_max=1ms";
  } catch (const OptionError& e) {
    EXPECT_EQ(e.key, "retry_delay_max");
    EXPECT_EQ(e.problem, "must not be below retry_delay_min");
  }
}

// Every declared default is a valid value of its option, and giving the defaults
// explicitly is the same as giving nothing: the same values, the same run, byte for byte.
TEST(CatalogueOptions, EachAlgorithmsDefaultsRoundTrip) {
  for (const AlgorithmInfo& a : algorithms()) {
    SCOPED_TRACE(a.name);
    std::map<std::string, std::string> explicit_defaults;
    for (const OptionSpec& o : a.options)
      if (!o.default_value.empty()) explicit_defaults[o.key] = o.default_value;
    const OptionValues none = a.validate(Options());
    const OptionValues given = a.validate(Options(explicit_defaults));
    for (const OptionSpec& o : a.options) {
      EXPECT_EQ(none.has(o.key), given.has(o.key)) << o.key;
      if (!none.has(o.key)) continue;
      switch (o.type) {
        case OptionType::Duration:
        case OptionType::Millis:
          EXPECT_EQ(none.duration(o.key), given.duration(o.key)) << o.key;
          break;
        case OptionType::Integer:
          EXPECT_EQ(none.integer(o.key), given.integer(o.key)) << o.key;
          break;
        case OptionType::Number:
          EXPECT_EQ(none.number(o.key), given.number(o.key)) << o.key;
          break;
        case OptionType::Boolean:
          EXPECT_EQ(none.boolean(o.key), given.boolean(o.key)) << o.key;
          break;
        case OptionType::Text:
        case OptionType::Choice:
          EXPECT_EQ(none.text(o.key), given.text(o.key)) << o.key;
          break;
      }
    }
    EXPECT_EQ(a.store_count(none), a.stores);

    sim::Scenario bare;
    bare.algorithm = a.name;
    bare.clients = 3;
    bare.workload.cycles = 2;
    sim::Scenario with = bare;
    with.options = Options(explicit_defaults);
    EXPECT_EQ(sim::run_scenario(bare).trace, sim::run_scenario(with).trace);
  }
}

TEST(CatalogueOptions, ALockReadsOnlyWhatItsEntryDeclares) {
  const OptionValues v = resolve_algorithm("redlock").validate(Options());
  EXPECT_THROW(v.duration("ttl"), std::logic_error);    // not redlock's
  EXPECT_THROW(v.duration("tries"), std::logic_error);  // an integer
  EXPECT_THROW(resolve_algorithm("etcd-session").validate(Options()).duration("timeout"),
               std::logic_error);  // no default: ask has() first
  EXPECT_FALSE(resolve_algorithm("etcd-session").validate(Options()).has("timeout"));
}

TEST(CatalogueOptions, AlgorithmsCommandShowsTypeAndDefault) {
  std::ostringstream out;
  std::streambuf* old = std::cout.rdbuf(out.rdbuf());
  const int status = cli::algorithms_command({});
  std::cout.rdbuf(old);
  EXPECT_EQ(status, 0);
  const std::string text = out.str();
  EXPECT_NE(text.find("tries (integer, default 15, 1..1000000): "), std::string::npos) << text;
  EXPECT_NE(text.find("fencing (true|false|mixed, default false): "), std::string::npos) << text;
  EXPECT_NE(text.find("timeout (duration): "), std::string::npos) << text;
  for (const AlgorithmInfo& a : algorithms())
    for (const OptionSpec& o : a.options)
      EXPECT_NE(text.find("      " + o.key + " ("), std::string::npos) << a.name << " " << o.key;
}

// Every entry point that names an algorithm says the same about an unknown one.
TEST(CatalogueOptions, OneMessageForAnUnknownAlgorithm) {
  std::string check_said, scenario_said;
  try {
    cli::check_command({"--algo", "nope"});
  } catch (const cli::UsageError& e) {
    check_said = e.message;
  }
  try {
    sim::parse_scenario(R"({"algorithm": "nope"})");
  } catch (const sim::ScenarioError& e) {
    scenario_said = e.message;
  }
  const std::string what = UnknownAlgorithm("nope").what();
  EXPECT_EQ(check_said, "--algo: " + what);
  EXPECT_EQ(scenario_said, "algorithm: " + what);
}

}  // namespace
}  // namespace lockstep
