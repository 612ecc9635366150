// Counterexample and matrix files go into --out, which may be a shared directory: a
// symlink planted at a file's name is refused, and its target is left as it was.
#include "sim/search/counterexample_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace lockstep::sim::search {
namespace {

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(CounterexampleWriter, WritesAFileAndRefusesAPlantedSymlink) {
  const std::string dir = testing::TempDir() + "cx-writer-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  const std::string plain = dir + "/matrix.json";
  write_text_file(plain, "{}\n");
  EXPECT_EQ(read(plain), "{}\n");

  const std::string victim = dir + "/victim";
  { std::ofstream(victim) << "precious\n"; }
  const std::string planted = dir + "/recipe-pause-mutual-exclusion-1.json";
  std::filesystem::create_symlink(victim, planted);
  try {
    write_text_file(planted, "overwritten\n");
    ADD_FAILURE() << "wrote through a symlink";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("is a symlink (refused)"), std::string::npos) << e.what();
  }
  EXPECT_EQ(read(victim), "precious\n");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace lockstep::sim::search
