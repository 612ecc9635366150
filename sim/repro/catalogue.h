// The catalogue of `lockstep repro`: published results about locks, each with its source,
// its claim in one sentence, and scenario variants whose verdicts the claim predicts.
// Entries are files (docs/repro/<entry>/entry.json beside its variants' scenario files,
// docs/repro.md gives the format); the built-in catalogue is those files compiled into
// the binary, and a directory of the same shape can stand in for it.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace lockstep::sim::repro {

// A count the claim has a number for, bounded on one or both sides.
struct CountBound {
  std::optional<double> min, max;
};

// What the claim predicts for one variant's run.
struct Expectation {
  std::vector<std::string> fail;  // checkers that must find a violation
  std::vector<std::string> hold;  // checkers that must hold
  std::map<std::string, CountBound> counts;
};

struct Variant {
  std::string name;
  std::string scenario_file;  // as the entry names it, relative to the entry's directory
  std::string scenario_text;  // the file's contents
  std::string note;           // what this variant shows, in a few words
  Expectation expect;
};

struct Entry {
  std::string name;  // the entry's directory name
  std::string title;
  std::string source;  // who said it, where
  std::string link;
  std::string claim;
  std::vector<Variant> variants;
};

// A bad catalogue file: one line naming the file and the key.
struct CatalogueError {
  std::string message;
};

// Files by path relative to the catalogue's root ("kleppmann-fencing/entry.json").
using CatalogueFiles = std::map<std::string, std::string>;

// The entries of `files`, by name. Throws CatalogueError.
std::vector<Entry> parse_catalogue(const CatalogueFiles& files);

// The built-in catalogue's files (docs/repro/, compiled in).
CatalogueFiles builtin_catalogue_files();

// The *.json files under `dir`, each at most kMaxScenarioFileBytes. Throws CatalogueError.
CatalogueFiles read_catalogue_dir(const std::string& dir);

// The counts a claim may bound, with what each means.
const std::map<std::string, std::string>& known_counts();

}  // namespace lockstep::sim::repro
