// Bad input to `lockstep live` and `lockstep check` is refused before anything starts,
// with the flag or option it is about (main() prints the message on one line, exit 2).
// No server is needed: these are refused before a store is reached.
#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/options.h"

namespace lockstep::cli {
namespace {

// What the command refused with, as main() would print it; "" if it did not throw.
std::string refusal(int (*command)(const std::vector<std::string>&),
                    const std::vector<std::string>& args) {
  try {
    command(args);
  } catch (const UsageError& e) {
    return e.message;
  } catch (const OptionError& e) {
    return "options." + e.key + ": " + e.problem;
  }
  return "";
}

TEST(CliInput, LiveRefusesAMalformedOptionBeforeStartingClients) {
  const std::string e = refusal(
      live_command, {"--store", "zk:127.0.0.1:1", "--algo", "zk-ttl", "--option", "ttl=abc"});
  EXPECT_EQ(e.rfind("options.ttl: ", 0), 0u) << e;
}

TEST(CliInput, LiveRefusesFewerServersThanRedlockStores) {
  // On one server, N "independent" stores would share one key and never reach a quorum.
  const std::string one = refusal(
      live_command, {"--store", "zk:127.0.0.1:1", "--algo", "redlock", "--option", "stores=3"});
  EXPECT_NE(one.find("redlock opens 3 independent stores"), std::string::npos) << one;
  EXPECT_NE(one.find("1 given"), std::string::npos) << one;
  const std::string local =
      refusal(live_command, {"--store", "local:", "--algo", "redlock", "--option", "stores=5"});
  EXPECT_NE(local.find("local: is one store"), std::string::npos) << local;
  const std::string more = refusal(live_command, {"--store", "zk:127.0.0.1:1", "--store",
                                                  "zk:127.0.0.1:2", "--algo", "redlock"});
  EXPECT_NE(more.find("2 stores given, redlock opens 1"), std::string::npos) << more;
}

TEST(CliInput, LiveSaysItCannotConnectWithinTheSessionTimeout) {
  // Nothing listens on port 1: the run ends naming the address, after the session
  // timeout asked for, not after a fixed 10 s.
  std::ostringstream err;
  std::streambuf* was = std::cerr.rdbuf(err.rdbuf());
  const int status = live_command(
      {"--store", "zk:127.0.0.1:1", "--session-timeout", "2s", "--clients", "1", "--cycles", "1"});
  std::cerr.rdbuf(was);
  const std::string what = err.str();
  EXPECT_EQ(status, 2) << what;
  EXPECT_NE(what.find("cannot connect to zk:127.0.0.1:1"), std::string::npos) << what;
  EXPECT_NE(what.find("within 2s"), std::string::npos) << what;
}

TEST(CliInput, LiveRefusesToKillTheLeaderOfAnotherHost) {
  const std::string e =
      refusal(live_command, {"--store", "zk:192.0.2.1:2181", "--fault", "kill-leader:1s"});
  EXPECT_NE(e.find("is not on this machine"), std::string::npos) << e;
}

TEST(CliInput, CheckRefusesAnUnknownChecker) {
  // A misspelt checker counted nothing, warned, and exited 0.
  const std::string e = refusal(check_command, {"--algo", "recipe", "--checkers", "bogus"});
  EXPECT_EQ(e.rfind("--checkers: unknown checker \"bogus\" (known: mutual-exclusion", 0), 0u) << e;
}

TEST(CliInput, LiveRefusesAZeroDurationOrSessionTimeoutAsTheSimulatorDoes) {
  EXPECT_EQ(refusal(live_command, {"--store", "local:", "--duration", "0s"}),
            "--duration: must be positive");
  EXPECT_EQ(refusal(live_command, {"--store", "local:", "--session-timeout", "0s"}),
            "--session-timeout: must be positive whole milliseconds");
  EXPECT_EQ(refusal(live_command, {"--store", "local:", "--session-timeout", "1500us"})
                .rfind("--session-timeout: must be positive whole milliseconds", 0),
            0u);
}

TEST(CliInput, CheckRefusesAMalformedOptionBeforeSearching) {
  EXPECT_EQ(refusal(check_command, {"--algo", "lease-fenced", "--option", "fencing=maybe"}),
            "--option fencing: is not true, false or mixed");
  EXPECT_EQ(refusal(check_command, {"--algo", "redlock", "--option", "tries=0"}),
            "--option tries: must be between 1 and 1000000");
}

TEST(CliInput, CheckAllRefusesFlagsItsRowsWouldIgnore) {
  // --option used to be dropped without a word: the matrix ran every row with its defaults.
  EXPECT_EQ(refusal(check_command, {"--all", "--option", "bug=true"})
                .rfind("--option: not with --all", 0),
            0u);
  EXPECT_EQ(
      refusal(check_command, {"--all", "--faults", "pause"}).rfind("--faults: not with --all", 0),
      0u);
}

TEST(CliInput, CheckRefusesRunsBeyondTheMaximum) {
  EXPECT_EQ(refusal(check_command, {"--algo", "recipe", "--runs", "1000000000001"}),
            "--runs: must be at most 1000000000000, got 1000000000001");
  EXPECT_EQ(refusal(check_command, {"--all", "--runs", "18446744073709551615"}),
            "--runs: must be at most 1000000000000, got 18446744073709551615");
}

TEST(CliInput, CheckKeepsNothingPerRunSoTheLargestSearchStarts) {
  // --runs 1000000000 ended in std::bad_alloc (exit 3): the search listed its cases and
  // kept every run's result. zk-slow fails under pauses within its first cases, so
  // the largest search allowed ends at once when nothing is kept a run.
  const std::string out =
      (std::filesystem::temp_directory_path() / "lockstep-cli-input-largest-search").string();
  std::ostringstream said;
  std::streambuf* was = std::cout.rdbuf(said.rdbuf());
  const int status = check_command({"--algo", "zk-slow", "--faults", "pause", "--runs",
                                    "1000000000000", "--jobs", "2", "--out", out});
  std::cout.rdbuf(was);
  std::filesystem::remove_all(out);
  EXPECT_EQ(status, 1) << said.str();
  EXPECT_NE(said.str().find("VIOLATION: zk-slow fails"), std::string::npos) << said.str();
}

}  // namespace
}  // namespace lockstep::cli
