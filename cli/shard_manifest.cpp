#include "cli/shard_manifest.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "cli/cli_main.h"
#include "cli/matrix_shards.h"
#include "core/json.h"
#include "sim/scenario.h"
#include "sim/search/counterexample_writer.h"

namespace lockstep::cli {

namespace fs = std::filesystem;
using nlohmann::ordered_json;

namespace {

constexpr int kManifestFormat = 1;
const char* kPrefix = "lockstep-shard-";

std::string shard_name(const sim::search::Shard& s) {
  return std::to_string(s.index) + "/" + std::to_string(s.count);
}

std::string file_name(const sim::search::Shard& s) {
  return kPrefix + std::to_string(s.index) + "-of-" + std::to_string(s.count) + ".json";
}

uint64_t fnv1a(uint64_t h, const std::string& text) {
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// How a flag of the identity is shown in a refusal: "--seed 2", "--algo a,b".
std::string shown(const std::string& key, const ordered_json& value) {
  std::string text;
  if (value.is_array()) {
    for (const auto& v : value) text += (text.empty() ? "" : ",") + v.get<std::string>();
    if (text.empty()) text = "(none)";
  } else if (value.is_string()) {
    text = value.get<std::string>();
  } else {
    text = value.dump();
  }
  static const std::map<std::string, std::string> flag = {
      {"mode", ""},           {"algorithms", "--algo"},   {"seed", "--seed"},
      {"runs", "--runs"},     {"checkers", "--checkers"}, {"max_shrink", "--max-shrink"},
      {"space", "search of"}, {"options", "--option"}};
  auto it = flag.find(key);
  const std::string label = it == flag.end() ? key : it->second;
  return label.empty() ? text : label + " " + text;
}

// Every number lockstep writes in a shard file is an integer, and its readers take them as
// integers: a double beyond an integer's range would convert with undefined behaviour
// (1e300 as a case number), so a fraction or exponent anywhere is refused here, once.
std::optional<std::string> non_integer(const ordered_json& j, const std::string& where) {
  if (j.is_number_float())
    return (where.empty() ? "the document" : where) + " is " + j.dump() + ", not an integer";
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it)
      if (auto bad = non_integer(it.value(), where.empty() ? it.key() : where + "." + it.key()))
        return bad;
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i)
      if (auto bad = non_integer(j[i], where + "[" + std::to_string(i) + "]")) return bad;
  }
  return std::nullopt;
}

ShardManifest parse(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  const auto bad = [&](const std::string& why) {
    return UsageError{path + ": not a lockstep shard file (" + why + ")"};
  };
  if (const auto problem = json_limits_problem(text.str())) throw bad(*problem);
  ordered_json j;
  try {
    j = ordered_json::parse(text.str());
  } catch (const std::exception& e) {
    throw bad("not JSON");
  }
  if (const auto problem = non_integer(j, "")) throw bad(*problem);
  ShardManifest m;
  m.path = path;
  try {
    if (!j.is_object() || j.value("lockstep_shard", 0) != kManifestFormat)
      throw bad("no \"lockstep_shard\": " + std::to_string(kManifestFormat));
    m.version = j.at("version").get<std::string>();
    m.scenario_format = j.at("scenario_format").get<int>();
    m.shard.index = j.at("shard").at("index").get<uint64_t>();
    m.shard.count = j.at("shard").at("count").get<uint64_t>();
    m.args = j.at("args").get<std::vector<std::string>>();
    m.identity = j.at("identity");
    m.fingerprint = j.at("fingerprint").get<std::string>();
    m.result = j.at("result");
  } catch (const nlohmann::json::exception& e) {
    throw bad(e.what());
  }
  if (m.shard.count == 0 || m.shard.index >= m.shard.count) throw bad("shard out of range");
  if (!m.identity.is_object() || !m.identity.contains("mode")) throw bad("no identity.mode");
  return m;
}

}  // namespace

std::string fingerprint(const std::vector<const sim::search::Search*>& searches) {
  // Case 0 is the smallest scenario and case 100 the largest of a sweep: between them they
  // use every generator.
  uint64_t h = 14695981039346656037ull;
  for (const sim::search::Search* s : searches) {
    const uint64_t runs = s->config().runs;
    for (uint64_t i : {uint64_t{0}, std::min<uint64_t>(100, runs - 1)})
      h = fnv1a(h, sim::scenario_to_json(s->generate(i).value()));
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

ShardManifest algo_manifest(const AlgoSearch& setup, const sim::search::Search& search) {
  ShardManifest m;
  m.version = version();
  m.scenario_format = sim::kScenarioFormat;
  const auto& cfg = setup.config;
  m.identity = {{"mode", "check --algo"},   {"algorithms", {setup.info->name}},
                {"space", setup.space},     {"options", setup.options},
                {"seed", cfg.seed},         {"runs", cfg.runs},
                {"checkers", cfg.checkers}, {"max_shrink", cfg.max_shrink_runs}};
  m.fingerprint = fingerprint({&search});
  return m;
}

ShardManifest matrix_manifest(const sim::search::MatrixConfig& cfg,
                              const std::vector<MatrixCellSearch>& cells) {
  ShardManifest m;
  m.version = version();
  m.scenario_format = sim::kScenarioFormat;
  m.identity = {{"mode", "check --all"},    {"algorithms", cfg.algorithms},
                {"seed", cfg.seed},         {"runs", cfg.runs},
                {"checkers", cfg.checkers}, {"max_shrink", cfg.max_shrink_runs}};
  std::vector<const sim::search::Search*> searches;
  for (const auto& c : cells) searches.push_back(c.search.get());
  m.fingerprint = fingerprint(searches);
  return m;
}

std::vector<std::string> search_args(const std::vector<std::string>& argv) {
  std::vector<std::string> out;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    bool dropped = false;
    for (const char* flag : {"--shard", "--out", "--jobs"}) {
      const std::string f = flag;
      if (a == f) {
        ++i;  // and its value
        dropped = true;
      } else if (a.rfind(f + "=", 0) == 0) {
        dropped = true;
      }
    }
    if (!dropped) out.push_back(a);
  }
  return out;
}

std::string write_manifest(const std::string& dir, const ShardManifest& m) {
  ordered_json j;
  j["lockstep_shard"] = kManifestFormat;
  j["version"] = m.version;
  j["scenario_format"] = m.scenario_format;
  j["shard"] = {{"index", m.shard.index}, {"count", m.shard.count}};
  j["args"] = m.args;
  j["identity"] = m.identity;
  j["fingerprint"] = m.fingerprint;
  j["result"] = m.result;
  const std::string path = (fs::path(dir) / file_name(m.shard)).string();
  sim::search::write_text_file(path, j.dump(2) + "\n");
  return path;
}

std::vector<ShardManifest> read_manifests(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw UsageError{"\"" + dir + "\" is not a directory"};
  std::vector<std::string> paths;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(kPrefix, 0) == 0 && entry.path().extension() == ".json")
      paths.push_back(entry.path().string());
  }
  if (ec) throw UsageError{"cannot list \"" + dir + "\": " + ec.message()};
  if (paths.empty())
    throw UsageError{"\"" + dir + "\" holds no " + kPrefix +
                     "K-of-N.json (is it the --out of a check --shard K/N?)"};
  std::sort(paths.begin(), paths.end());
  std::vector<ShardManifest> out;
  for (const auto& p : paths) out.push_back(parse(p));
  return out;
}

std::vector<ShardManifest> complete_set(std::vector<ShardManifest> shards) {
  const ShardManifest& first = shards.front();
  const auto where = [](const ShardManifest& m) {
    return "shard " + shard_name(m.shard) + " (" + m.path + ")";
  };
  for (const ShardManifest& m : shards) {
    if (m.version != first.version || m.scenario_format != first.scenario_format)
      throw UsageError{where(m) + " is from lockstep " + m.version + " but " + where(first) +
                       " from lockstep " + first.version + ": not parts of one search"};
    if (m.shard.count != first.shard.count)
      throw UsageError{where(m) + " and " + where(first) +
                       " split the search differently: not parts of one search"};
    for (const auto& [key, value] : first.identity.items()) {
      const ordered_json other = m.identity.contains(key) ? m.identity[key] : ordered_json();
      if (other != value)
        throw UsageError{where(m) + " has " + shown(key, other) + " but " + where(first) + " has " +
                         shown(key, value) + ": not parts of one search"};
    }
    if (m.identity.size() != first.identity.size())
      throw UsageError{where(m) + " and " + where(first) + " differ: not parts of one search"};
    if (m.fingerprint != first.fingerprint)
      throw UsageError{where(m) + " and " + where(first) +
                       " generate different cases (different builds of lockstep " + m.version +
                       "): not parts of one search"};
  }
  if (first.version != version())
    throw UsageError{"the shards are from lockstep " + first.version + ", this is lockstep " +
                     version() + ": merge with the lockstep that ran them"};
  std::vector<const ShardManifest*> by_index(first.shard.count, nullptr);
  for (const ShardManifest& m : shards) {
    if (by_index[m.shard.index])
      throw UsageError{"shard " + shard_name(m.shard) + " given twice (" +
                       by_index[m.shard.index]->path + ", " + m.path + ")"};
    by_index[m.shard.index] = &m;
  }
  for (uint64_t k = 0; k < first.shard.count; ++k)
    if (!by_index[k])
      throw UsageError{"shard " + std::to_string(k) + "/" + std::to_string(first.shard.count) +
                       " missing (" + std::to_string(shards.size()) + " of " +
                       std::to_string(first.shard.count) + " given)"};
  std::sort(shards.begin(), shards.end(), [](const ShardManifest& a, const ShardManifest& b) {
    return a.shard.index < b.shard.index;
  });
  return shards;
}

}  // namespace lockstep::cli
