// Files lockstep reads have a size limit: an endless or huge input ends in one error
// naming the file and the limit, not in all of memory; a read error is a read error.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "sim/scenario.h"

namespace lockstep::sim {
namespace {

std::string refusal(const std::string& path) {
  try {
    load_scenario(path);
  } catch (const ScenarioError& e) {
    return e.message;
  }
  return "";
}

TEST(BoundedReads, AnEndlessFileIsRefusedAtTheLimit) {
  EXPECT_EQ(refusal("/dev/zero"), "/dev/zero: larger than 4 MiB, the limit for a scenario file");
}

TEST(BoundedReads, AFileJustOverTheLimitIsRefusedAndOneJustUnderLoads) {
  const std::string path = testing::TempDir() + "bounded_reads_test.json";
  const std::string doc = R"({"algorithm": "zk-fast", "clients": 2})";
  {
    std::ofstream out(path, std::ios::binary);
    out << doc << std::string(kMaxScenarioFileBytes - doc.size(), ' ');
  }
  EXPECT_EQ(load_scenario(path).clients, 2);
  {
    std::ofstream out(path, std::ios::app | std::ios::binary);
    out << ' ';
  }
  EXPECT_EQ(refusal(path), path + ": larger than 4 MiB, the limit for a scenario file");
  std::filesystem::remove(path);
}

TEST(BoundedReads, ADirectoryIsAReadErrorNotInvalidJson) {
  const std::string dir = testing::TempDir();
  EXPECT_NE(refusal(dir).find("cannot read"), std::string::npos) << refusal(dir);
}

}  // namespace
}  // namespace lockstep::sim
