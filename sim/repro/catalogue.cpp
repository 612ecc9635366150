#include "sim/repro/catalogue.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/check/judge.h"
#include "core/json.h"
#include "sim/scenario.h"

namespace lockstep::sim::repro {
namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& file, const std::string& problem) {
  throw CatalogueError{file + ": " + problem};
}

const json& require(const json& obj, const std::string& file, const std::string& path,
                    const char* key, json::value_t type) {
  auto it = obj.find(key);
  if (it == obj.end()) fail(file, "missing key " + path + key);
  const bool ok = type == json::value_t::number_float ? it->is_number() : it->type() == type;
  if (!ok) fail(file, path + key + " has the wrong type");
  return *it;
}

std::string text(const json& obj, const std::string& file, const std::string& path,
                 const char* key) {
  return require(obj, file, path, key, json::value_t::string).get<std::string>();
}

void only(const json& obj, const std::string& file, const std::string& path,
          std::initializer_list<const char*> known) {
  // Not a structured binding: clang 14 (the fuzz build) cannot capture one in a lambda.
  for (const auto& item : obj.items()) {
    const std::string& key = item.key();
    if (std::none_of(known.begin(), known.end(), [&](const char* k) { return key == k; }))
      fail(file, "unknown key " + path + json_quote(key));
  }
}

std::vector<std::string> checker_list(const json& e, const std::string& file,
                                      const std::string& path, const char* key) {
  std::vector<std::string> out;
  auto it = e.find(key);
  if (it == e.end()) return out;
  if (!it->is_array()) fail(file, path + key + " must be a list of checker names");
  for (const auto& name : *it) {
    if (!name.is_string()) fail(file, path + key + " must be a list of checker names");
    const auto& table = checker_table();
    const std::string n = name.get<std::string>();
    if (std::none_of(table.begin(), table.end(), [&](const CheckerRow& r) { return r.name == n; }))
      fail(file, path + key + ": unknown checker " + json_quote(n));
    out.push_back(n);
  }
  return out;
}

CountBound count_bound(const json& v, const std::string& file, const std::string& path) {
  if (v.is_number()) return {v.get<double>(), v.get<double>()};
  if (!v.is_object()) fail(file, path + " must be a number or {\"min\": A, \"max\": B}");
  only(v, file, path + ".", {"min", "max"});
  CountBound b;
  if (auto it = v.find("min"); it != v.end()) {
    if (!it->is_number()) fail(file, path + ".min must be a number");
    b.min = it->get<double>();
  }
  if (auto it = v.find("max"); it != v.end()) {
    if (!it->is_number()) fail(file, path + ".max must be a number");
    b.max = it->get<double>();
  }
  if (!b.min && !b.max) fail(file, path + " bounds nothing (give min, max or both)");
  if (b.min && b.max && *b.min > *b.max) fail(file, path + ": min is above max");
  return b;
}

Expectation expectation(const json& e, const std::string& file, const std::string& path) {
  if (!e.is_object()) fail(file, path + " must be an object");
  only(e, file, path + ".", {"fail", "hold", "counts"});
  Expectation x;
  x.fail = checker_list(e, file, path + ".", "fail");
  x.hold = checker_list(e, file, path + ".", "hold");
  for (const auto& name : x.fail)
    if (std::find(x.hold.begin(), x.hold.end(), name) != x.hold.end())
      fail(file, path + ": " + name + " both fails and holds");
  if (auto it = e.find("counts"); it != e.end()) {
    if (!it->is_object()) fail(file, path + ".counts must be an object");
    for (const auto& [key, v] : it->items()) {
      if (!known_counts().count(key)) {
        std::string known;
        for (const auto& [k, _] : known_counts()) known += (known.empty() ? "" : ", ") + k;
        fail(file, path + ".counts: unknown count " + json_quote(key) + " (known: " + known + ")");
      }
      x.counts[key] = count_bound(v, file, path + ".counts." + key);
    }
  }
  if (x.fail.empty() && x.hold.empty() && x.counts.empty())
    fail(file, path + " predicts nothing (give fail, hold or counts)");
  return x;
}

Entry parse_entry(const std::string& name, const std::string& file, const CatalogueFiles& files) {
  json doc;
  if (auto problem = json_limits_problem(files.at(file)))
    fail(file, "not JSON lockstep reads: " + *problem);
  try {
    doc = json::parse(files.at(file));
  } catch (const json::exception& e) {
    fail(file, std::string("not JSON: ") + e.what());
  }
  if (!doc.is_object()) fail(file, "must be a JSON object");
  only(doc, file, "", {"title", "source", "link", "claim", "variants"});
  Entry entry{.name = name,
              .title = text(doc, file, "", "title"),
              .source = text(doc, file, "", "source"),
              .link = text(doc, file, "", "link"),
              .claim = text(doc, file, "", "claim"),
              .variants = {}};
  const json& variants = require(doc, file, "", "variants", json::value_t::array);
  if (variants.empty()) fail(file, "variants is empty");
  for (size_t i = 0; i < variants.size(); ++i) {
    const json& v = variants[i];
    const std::string path = "variants[" + std::to_string(i) + "].";
    if (!v.is_object()) fail(file, path + " must be an object");
    only(v, file, path, {"name", "scenario", "note", "expect"});
    Variant variant{.name = text(v, file, path, "name"),
                    .scenario_file = text(v, file, path, "scenario"),
                    .scenario_text = {},
                    .note = v.contains("note") ? text(v, file, path, "note") : "",
                    .expect = expectation(require(v, file, path, "expect", json::value_t::object),
                                          file, path + "expect")};
    for (const auto& earlier : entry.variants)
      if (earlier.name == variant.name) fail(file, path + "name: " + variant.name + " twice");
    auto it = files.find(name + "/" + variant.scenario_file);
    if (it == files.end())
      fail(file, path + "scenario: no file " + json_quote(variant.scenario_file) + " beside it");
    variant.scenario_text = it->second;
    try {
      parse_scenario(variant.scenario_text);
    } catch (const ScenarioError& e) {
      fail(name + "/" + variant.scenario_file, e.message);
    }
    entry.variants.push_back(std::move(variant));
  }
  return entry;
}

}  // namespace

const std::map<std::string, std::string>& known_counts() {
  static const std::map<std::string, std::string> counts = {
      {"acquisitions", "grants of the lock"},
      {"releases", "releases of the lock"},
      {"accepted_writes", "resource writes the store applied"},
      {"refused_writes", "resource writes refused by fencing"},
      {"leftover_nodes", "lock nodes left after every session closed"},
      {"store_requests", "requests the store(s) processed"},
      {"watch_notifications", "watch events delivered to clients (simulator only)"},
      {"notifications_per_release", "watch events per release (simulator only)"},
  };
  return counts;
}

std::vector<Entry> parse_catalogue(const CatalogueFiles& files) {
  std::vector<Entry> entries;
  const std::string suffix = "/entry.json";
  for (const auto& [path, _] : files) {
    if (path.size() <= suffix.size() ||
        path.compare(path.size() - suffix.size(), suffix.size(), suffix) != 0)
      continue;
    const std::string name = path.substr(0, path.size() - suffix.size());
    if (name.find('/') != std::string::npos) continue;  // entries are one level deep
    entries.push_back(parse_entry(name, path, files));
  }
  if (entries.empty()) throw CatalogueError{"the catalogue has no entries (no */entry.json)"};
  return entries;
}

CatalogueFiles read_catalogue_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw CatalogueError{dir + ": not a directory"};
  CatalogueFiles files;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (!it->is_regular_file(ec) || it->path().extension() != ".json") continue;
    const std::string rel = fs::relative(it->path(), dir, ec).generic_string();
    if (it->file_size(ec) > kMaxScenarioFileBytes)
      throw CatalogueError{it->path().string() + ": larger than " +
                           std::to_string(kMaxScenarioFileBytes) + " bytes"};
    std::ifstream in(it->path(), std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in) throw CatalogueError{it->path().string() + ": cannot read"};
    files[rel] = text.str();
  }
  if (ec) throw CatalogueError{dir + ": " + ec.message()};
  return files;
}

}  // namespace lockstep::sim::repro
