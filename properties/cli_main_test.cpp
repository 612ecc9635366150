// cli_main is the whole command, for the lockstep binary and for a user's program that
// registers its own algorithm first: --version, and a registered algorithm beside the
// built-in ones in `algorithms` and `run`.
#include "cli/cli_main.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "core/lock.h"

namespace lockstep {
namespace {

struct Outcome {
  int status = -1;
  std::string out, err;
};

Outcome cli(std::vector<std::string> words) {
  words.insert(words.begin(), "lockstep");
  std::vector<char*> argv;
  for (std::string& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  std::ostringstream out, err;
  std::streambuf* was_out = std::cout.rdbuf(out.rdbuf());
  std::streambuf* was_err = std::cerr.rdbuf(err.rdbuf());
  Outcome o;
  o.status = cli_main(static_cast<int>(words.size()), argv.data());
  std::cout.rdbuf(was_out);
  std::cerr.rdbuf(was_err);
  o.out = out.str();
  o.err = err.str();
  return o;
}

TEST(CliMain, VersionIsTheSemanticVersionAndTheScenarioFormat) {
  EXPECT_TRUE(std::regex_match(version(), std::regex(R"(\d+\.\d+\.\d+)"))) << version();
  const Outcome o = cli({"--version"});
  EXPECT_EQ(o.status, 0);
  EXPECT_EQ(o.out, std::string("lockstep ") + version() + " (scenario format 1)\n");
}

// GCC before 14 warns of every member a designated initialiser leaves to its default
// (GCC bug 96868), as in core/locks/catalogue.cpp.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
// A user's algorithm: the recipe's code under a name and options of its own.
void register_user_lock() {
  static const bool registered = [] {
    register_algorithm({
        .name = "test-user-lock",
        .summary = "a user's lock, registered before cli_main",
        .options = {{.key = "patience",
                     .type = OptionType::Duration,
                     .default_value = "1s",
                     .help = "an option of the user's"}},
        .has_fencing_token = true,
        .make = [](LockContext c) { return resolve_algorithm("recipe").make(std::move(c)); },
    });
    return true;
  }();
  (void)registered;
}
#pragma GCC diagnostic pop

TEST(CliMain, ARegisteredAlgorithmIsListedAndRuns) {
  register_user_lock();
  const Outcome listed = cli({"algorithms"});
  EXPECT_EQ(listed.status, 0);
  EXPECT_NE(listed.out.find("test-user-lock\n    a user's lock, registered before cli_main\n"
                            "    fencing token: yes\n    options:\n"
                            "      patience (duration, default 1s): an option of the user's\n"),
            std::string::npos)
      << listed.out;

  const std::filesystem::path file = std::filesystem::temp_directory_path() /
                                     ("cli-main-test-" + std::to_string(::getpid()) + ".json");
  std::ofstream(file)
      << R"({"format": 1, "algorithm": "test-user-lock", "options": {"patience": "2s"}})";
  const Outcome ran = cli({"run", file.string()});
  std::filesystem::remove(file);
  EXPECT_EQ(ran.status, 0) << ran.out << ran.err;
  EXPECT_NE(ran.out.find("mutual-exclusion"), std::string::npos) << ran.out;

  const Outcome refused = cli({"check", "--algo", "test-user-lock", "--option", "patience=soon"});
  EXPECT_EQ(refused.status, 2);
  EXPECT_EQ(refused.err.rfind("lockstep check: --option patience: ", 0), 0u) << refused.err;
}

}  // namespace
}  // namespace lockstep
