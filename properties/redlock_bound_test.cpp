// Redlock's port never writes after Lock returns: go-redsync bounds each store call of a
// try with the try's context, so a SET is sent before that bound or not at all (issue 18,
// item 4). The trace shows every SET (a create of a "key-" incarnation) as the store
// applies it; none may come from a client that is not inside an acquire.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "sim/run.h"
#include "sim/scenario.h"

namespace lockstep::sim {
namespace {

// Five stores, three of them down for a while in turn (with their data): a store call
// made while its session is disconnected misses its try's bound. A crash breaks the
// connections at once, so nothing sent before it is still on its way afterwards.
constexpr const char* kScenario = R"({
  "algorithm": "redlock", "options": {"stores": 5}, "clients": 3, "seed": 3,
  "session_timeout": "4s",
  "workload": {"cycles": 8, "hold": "200ms", "think": "20ms", "acquire_timeout": "20s"},
  "faults": [
    {"kind": "store_crash", "store": 3, "at": "300ms", "restart_after": "2s"},
    {"kind": "store_crash", "store": 4, "at": "800ms", "restart_after": "2s"},
    {"kind": "store_crash", "store": 2, "at": "3s", "restart_after": "1500ms"}
  ],
  "duration": "200s"})";

TEST(RedlockBound, NoSetLandsOutsideAnAcquire) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    SCOPED_TRACE(seed);
    Scenario sc = parse_scenario(kScenario);
    sc.seed = seed;
    RunResult r = run_scenario(sc);
    std::map<std::pair<std::string, std::string>, int> owner;  // (store, session) -> client
    std::map<int, bool> acquiring;
    int sets = 0;
    for (const std::string& line : r.trace) {
      const auto e = nlohmann::json::parse(line);
      const std::string src = e.value("src", ""), ev = e.value("ev", "");
      if (ev == "session_new") owner[{src, e["session"]}] = e["client"].get<int>();
      if (src.rfind("client ", 0) == 0) {
        const int c = std::stoi(src.substr(7));
        if (ev == "acquire_start") acquiring[c] = true;
        if (ev == "acquired" || ev == "acquire_failed") acquiring[c] = false;
      }
      if (ev == "req" && e.value("op", "") == "create" && e.value("err", "") == "Ok" &&
          e.value("path", "").find("/key-") != std::string::npos) {
        ++sets;
        const int c = owner.at({src, e["session"]});
        EXPECT_TRUE(acquiring[c]) << "client " << c << "'s SET applied at t=" << e["t"] << " ns on "
                                  << src << ", after its Lock returned";
      }
    }
    EXPECT_GT(sets, 10);
  }
}

}  // namespace
}  // namespace lockstep::sim
