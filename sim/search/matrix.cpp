#include "sim/search/matrix.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "core/check/judge.h"
#include "core/lock.h"
#include "sim/faults/table.h"

namespace lockstep::sim::search {

namespace {

std::string padded(const std::string& s, size_t width) {
  return s.size() >= width ? s + " " : s + std::string(width - s.size(), ' ');
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}

// A column of one fault kind, named as the kind is.
FaultClass one_kind(FaultKind kind, std::string meaning) {
  return {std::string(fault_name(kind)), {kind}, std::move(meaning)};
}

}  // namespace

const std::vector<FaultClass>& fault_classes() {
  static const std::vector<FaultClass> classes = {
      {"none", {}, "no faults: the lock under contention alone"},
      one_kind(FaultKind::Pause, "process pauses (GC, SIGSTOP), short and longer than the session"),
      one_kind(FaultKind::Clock, "clock drift (100ppm..100%), jumps both ways, strobes"),
      one_kind(FaultKind::Partition, "client-server partitions, both ways or one way"),
      // drop_reply's column keeps the name the matrix has always given it.
      {"lost-reply", {FaultKind::DropReply}, "a create's or delete's reply lost after it applied"},
      one_kind(FaultKind::Crash, "client crashes, restarted later"),
      {"all", {}, "every fault kind the simulator has, mixed"},
  };
  return classes;
}

std::vector<FaultKind> fault_class_kinds(const std::string& name, const AlgorithmInfo& algorithm,
                                         int stores) {
  if (name == "all") return supported_fault_kinds(algorithm, stores);
  for (const auto& c : fault_classes())
    if (c.name == name) return c.kinds;
  if (const FaultDescriptor* d = find_fault_or_alias(name)) return {d->kind};
  std::vector<std::string> known;
  for (const auto& c : fault_classes()) known.push_back(c.name);
  for (const auto& k : fault_names())
    if (std::find(known.begin(), known.end(), k) == known.end()) known.push_back(k);
  throw std::invalid_argument("unknown fault class or kind \"" + name +
                              "\" (known: " + join(known, ", ") + ")");
}

SearchSpace matrix_space(const AlgorithmInfo& algorithm, const std::string& fault_class) {
  SearchSpace s;
  s.algorithm = &algorithm;
  s.fault_kinds = fault_class_kinds(fault_class, algorithm);
  // A fault class's column is about that fault: a scenario without one would only repeat
  // the "none" column.
  s.min_faults = s.fault_kinds.empty() ? 0 : 1;
  s.resource = true;
  s.fenced = algorithm.has_fencing_token;
  return s;
}

std::vector<std::string> order_checkers(std::vector<std::string> names) {
  // The checker table's order; names it does not hold go last, alphabetically.
  auto rank = [](const std::string& n) {
    const auto& table = checker_table();
    auto it = std::find_if(table.begin(), table.end(),
                           [&n](const CheckerRow& row) { return row.name == n; });
    return it - table.begin();
  };
  std::sort(names.begin(), names.end(), [&](const std::string& a, const std::string& b) {
    return rank(a) != rank(b) ? rank(a) < rank(b) : a < b;
  });
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

void add_to_tally(std::map<std::string, CheckerTally>& tallies, const CaseResult& r) {
  for (const auto& c : r.checkers) ++tallies[c].runs;
  for (const auto& c : r.failed) {
    CheckerTally& t = tallies[c];
    ++t.violations;
    if (t.first_failure < 0 || static_cast<int64_t>(r.index) < t.first_failure)
      t.first_failure = static_cast<int64_t>(r.index);
  }
}

std::map<std::string, CheckerTally> tally(const std::vector<CaseResult>& results) {
  std::map<std::string, CheckerTally> out;
  for (const CaseResult& r : results) add_to_tally(out, r);
  return out;
}

const MatrixCell* Matrix::find(const std::string& algorithm, const std::string& fault_class,
                               const std::string& checker) const {
  for (const auto& c : cells)
    if (c.algorithm == algorithm && c.fault_class == fault_class && c.checker == checker) return &c;
  return nullptr;
}

int Matrix::violated() const {
  int n = 0;
  for (const auto& c : cells) n += c.violations > 0;
  return n;
}

std::string matrix_json(const Matrix& m) {
  using nlohmann::ordered_json;
  ordered_json j;
  j["command"] = m.command;
  j["seed"] = m.seed;
  j["runs"] = m.runs;
  j["algorithms"] = m.algorithms;
  ordered_json classes = ordered_json::array();
  for (const auto& name : m.classes) {
    ordered_json c;
    c["name"] = name;
    for (const auto& fc : fault_classes())
      if (fc.name == name) c["meaning"] = fc.meaning;
    classes.push_back(c);
  }
  j["fault_classes"] = classes;
  j["checkers"] = m.checkers;
  ordered_json cells = ordered_json::array();
  for (const auto& c : m.cells) {
    ordered_json x;
    x["algorithm"] = c.algorithm;
    x["faults"] = c.fault_class;
    x["checker"] = c.checker;
    x["status"] = c.runs == 0 ? "n/a" : c.violations > 0 ? "violated" : "holds";
    x["runs"] = c.runs;
    x["violating_runs"] = c.violations;
    if (c.violations > 0) {
      x["counterexample"] = c.counterexample;
      x["counterexample_faults"] = c.faults;
      x["summary"] = c.summary;
    }
    cells.push_back(x);
  }
  j["cells"] = cells;
  return j.dump(2) + "\n";
}

std::string matrix_markdown(const Matrix& m) {
  std::ostringstream out;
  out << "Safety matrix: " << m.runs << " generated scenarios per algorithm and fault class"
      << " (seed " << m.seed << "). Regenerate with `" << m.command << "`.\n\n";
  out << "| algorithm | checker |";
  for (const auto& c : m.classes) out << " " << c << " |";
  out << "\n|---|---|";
  for (size_t i = 0; i < m.classes.size(); ++i) out << "---|";
  out << "\n";
  for (const auto& a : m.algorithms) {
    for (const auto& k : m.checkers) {
      out << "| " << a << " | " << k << " |";
      for (const auto& cls : m.classes) {
        const MatrixCell* c = m.find(a, cls, k);
        if (!c || c->runs == 0)
          out << " - |";
        else if (c->violations == 0)
          out << " holds (" << c->runs << ") |";
        else
          out << " **violated** [" << c->faults << (c->faults == 1 ? " fault" : " faults") << "]("
              << c->counterexample << ") " << c->violations << "/" << c->runs << " |";
      }
      out << "\n";
    }
  }
  out << "\n\"holds (N)\": the checker held in all N runs where it applied. \"violated\": links "
         "the minimal counterexample (a scenario file; `lockstep run FILE` replays it) and "
         "says how many runs failed. \"-\": the checker does not apply.\n\nFault classes:\n\n";
  for (const auto& fc : fault_classes())
    if (std::find(m.classes.begin(), m.classes.end(), fc.name) != m.classes.end())
      out << "- `" << fc.name << "`: " << fc.meaning << "\n";
  return out.str();
}

std::string matrix_table(const Matrix& m) {
  std::ostringstream out;
  size_t algo_w = 10, checker_w = 8;
  for (const auto& a : m.algorithms) algo_w = std::max(algo_w, a.size() + 1);
  for (const auto& k : m.checkers) checker_w = std::max(checker_w, k.size() + 1);
  const size_t cell_w = 12;
  out << padded("algorithm", algo_w) << padded("checker", checker_w);
  for (const auto& c : m.classes) out << padded(c, cell_w);
  out << "\n";
  std::vector<const MatrixCell*> failed;
  for (const auto& a : m.algorithms) {
    for (const auto& k : m.checkers) {
      out << padded(a, algo_w) << padded(k, checker_w);
      for (const auto& cls : m.classes) {
        const MatrixCell* c = m.find(a, cls, k);
        std::string text;
        if (!c || c->runs == 0) {
          text = "-";
        } else if (c->violations == 0) {
          text = "ok " + std::to_string(c->runs);
        } else {
          failed.push_back(c);
          text = "FAIL [" + std::to_string(failed.size()) + "]";
        }
        out << padded(text, cell_w);
      }
      out << "\n";
    }
  }
  out << "\n\"ok N\": held in all N runs where the checker applied; \"-\": does not apply.\n";
  for (size_t i = 0; i < failed.size(); ++i) {
    const MatrixCell& c = *failed[i];
    out << "[" << i + 1 << "] " << c.algorithm << " / " << c.fault_class << " / " << c.checker
        << ": " << c.violations << " of " << c.runs << " runs; minimal (" << c.faults
        << (c.faults == 1 ? " fault" : " faults") << "): lockstep run " << c.counterexample << "\n";
  }
  return out.str();
}

}  // namespace lockstep::sim::search
