// The repro catalogue's reader and the claim matcher of `lockstep repro`.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "sim/repro/catalogue.h"
#include "sim/repro/claim.h"
#include "sim/run.h"
#include "sim/scenario.h"

namespace lockstep::sim::repro {
namespace {

const char* kScenario = R"({"algorithm": "recipe", "clients": 2,
  "workload": {"cycles": 2, "hold": "10ms", "think": "1ms", "acquire_timeout": "10s"},
  "duration": "30s"})";

CatalogueFiles one_entry(const std::string& expect) {
  return {{"e/entry.json", R"({"title": "t", "source": "s", "link": "l", "claim": "c",
            "variants": [{"name": "v", "scenario": "v.json", "expect": )" +
                               expect + "}]}"},
          {"e/v.json", kScenario}};
}

std::string error_of(const CatalogueFiles& files) {
  try {
    parse_catalogue(files);
  } catch (const CatalogueError& e) {
    return e.message;
  }
  return "";
}

TEST(ReproCatalogue, TheBuiltInCatalogueParses) {
  const auto entries = parse_catalogue(builtin_catalogue_files());
  EXPECT_GE(entries.size(), 6u);
  for (const auto& e : entries) {
    EXPECT_FALSE(e.link.empty()) << e.name;
    EXPECT_FALSE(e.variants.empty()) << e.name;
  }
}

// The fuzzers' corpora start from the catalogue as it is (docs/fuzzing.md): an entry's
// copy in the catalogue corpus, a variant's in the scenario corpus, byte for byte.
TEST(ReproCatalogue, TheFuzzCorporaHoldTheCatalogueAsItIs) {
  auto read = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return in ? text.str() : std::string("(cannot read " + path + ")");
  };
  const std::string corpus = "../properties/fuzz/corpus/";
  for (const auto& [name, text] : builtin_catalogue_files()) {
    const auto slash = name.find('/');
    ASSERT_NE(slash, std::string::npos) << name;
    const std::string entry = name.substr(0, slash), file = name.substr(slash + 1);
    const std::string copy = file == "entry.json" ? corpus + "catalogue/" + entry + ".json"
                                                  : corpus + "scenario/repro-" + entry + "-" + file;
    EXPECT_EQ(read(copy), text) << copy << " is not " << name
                                << "; copy the catalogue into the corpora again";
  }
}

TEST(ReproCatalogue, ReadsAnEntryAndItsScenario) {
  const auto entries = parse_catalogue(one_entry(R"({"fail": ["fencing"],
      "hold": ["mutual-exclusion"], "counts": {"refused_writes": {"min": 1}, "acquisitions": 4}})"));
  ASSERT_EQ(entries.size(), 1u);
  const Variant& v = entries[0].variants.at(0);
  EXPECT_EQ(entries[0].name, "e");
  EXPECT_EQ(v.expect.fail, std::vector<std::string>{"fencing"});
  EXPECT_EQ(v.expect.hold, std::vector<std::string>{"mutual-exclusion"});
  EXPECT_EQ(v.expect.counts.at("refused_writes").min, 1.0);
  EXPECT_FALSE(v.expect.counts.at("refused_writes").max);
  EXPECT_EQ(v.expect.counts.at("acquisitions").max, 4.0);
  EXPECT_EQ(v.scenario_text, kScenario);
}

TEST(ReproCatalogue, RefusesWhatItCannotJudgeNamingFileAndKey) {
  EXPECT_EQ(error_of(one_entry(R"({"fail": ["meteor"]})")),
            "e/entry.json: variants[0].expect.fail: unknown checker \"meteor\"");
  EXPECT_NE(error_of(one_entry(R"({"counts": {"speed": 1}})")).find("unknown count \"speed\""),
            std::string::npos);
  EXPECT_NE(error_of(one_entry("{}")).find("predicts nothing"), std::string::npos);
  EXPECT_NE(error_of(one_entry(R"({"fail": ["fencing"], "hold": ["fencing"]})"))
                .find("both fails and holds"),
            std::string::npos);
  EXPECT_NE(error_of(one_entry(R"({"counts": {"acquisitions": {"min": 3, "max": 1}}})"))
                .find("min is above max"),
            std::string::npos);
  auto files = one_entry(R"({"fail": ["fencing"]})");
  files.erase("e/v.json");
  EXPECT_NE(error_of(files).find("no file \"v.json\" beside it"), std::string::npos);
  files["e/v.json"] = R"({"algorithm": "nope"})";
  EXPECT_EQ(error_of(files).rfind("e/v.json: ", 0), 0u);
  EXPECT_NE(error_of({{"readme.json", "{}"}}).find("no entries"), std::string::npos);
  EXPECT_NE(error_of({{"e/entry.json", "{"}}).find("e/entry.json: not JSON"), std::string::npos);
}

// A catalogue of --catalogue DIR is outside input: too deep or out of range is one line
// naming the file and the place, as a scenario's would be.
TEST(ReproCatalogue, RefusesJsonNoReaderShouldBeHanded) {
  EXPECT_EQ(error_of(one_entry(R"({"counts": {"acquisitions": 1e309}})")),
            "e/entry.json: not JSON lockstep reads: line 2, column 100: number 1e309 is beyond "
            "the range of a double (about 1.8e308)");
  EXPECT_NE(error_of({{"e/entry.json", std::string(10000, '[')}}).find("nested deeper than 64"),
            std::string::npos);
  auto files = one_entry(R"({"fail": ["fencing"]})");
  files["e/v.json"] = R"({"algorithm": "recipe", "duration": "100000h"})";
  EXPECT_EQ(error_of(files),
            "e/v.json: duration: must be at most 87600h (10 years), got \"100000h\"");
}

TEST(ReproClaim, AReproducedClaimHasNoMismatch) {
  const RunResult r = run_scenario(parse_scenario(kScenario), RunOptions{false});
  const Observed seen = observe(r);
  Expectation x;
  x.hold = {"mutual-exclusion", "liveness"};
  x.counts["acquisitions"] = CountBound{4.0, 4.0};
  x.counts["notifications_per_release"] = CountBound{std::nullopt, 1.0};
  EXPECT_TRUE(mismatches(x, seen).empty());
  EXPECT_EQ(describe(x),
            "holds mutual-exclusion, liveness; acquisitions = 4; "
            "notifications_per_release <= 1");
}

TEST(ReproClaim, EachDepartureIsNamed) {
  const RunResult r = run_scenario(parse_scenario(kScenario), RunOptions{false});
  Expectation x;
  x.fail = {"mutual-exclusion", "fencing"};  // fencing: no resource, so it never applied
  x.counts["acquisitions"] = CountBound{10.0, std::nullopt};
  const auto m = mismatches(x, observe(r));
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[0], "mutual-exclusion held, the claim says it fails");
  EXPECT_EQ(m[1], "fencing did not apply to this run");
  EXPECT_EQ(m[2], "acquisitions = 4, the claim says acquisitions >= 10");
  // A live run measures no watch notifications: the claim cannot be judged there.
  Expectation herd;
  herd.counts["notifications_per_release"] = CountBound{std::nullopt, 1.0};
  EXPECT_EQ(mismatches(herd, observe(static_cast<const RunOutcome&>(r))).at(0),
            "notifications_per_release is not measured in this world");
}

}  // namespace
}  // namespace lockstep::sim::repro
