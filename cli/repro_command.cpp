// `lockstep repro`: the published results about locks, each run as its scenario variants
// and judged against what its claim predicts (sim/repro/).
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "cli/args.h"
#include "cli/commands.h"
#include "sim/faults/live_form.h"
#include "sim/faults/table.h"
#include "sim/repro/catalogue.h"
#include "sim/repro/claim.h"
#include "sim/run.h"
#include "sim/scenario.h"
#include "sim/search/counterexample_writer.h"

namespace lockstep::cli {
namespace {

const char* kReproHelp =
    R"(usage: lockstep repro NAME... | --all [--out DIR] [--live zk:HOST:PORT]...
       lockstep repro --list

Reproduces published results about locks. Each entry of the catalogue is a claim from a
paper, article, report or issue (with its link) and one or more scenario variants, each
with the verdicts the claim predicts: which checkers fail, which hold, and counts where
the claim has numbers (refused writes, watch notifications per release). repro runs every
variant in the simulator and prints the claim beside lockstep's result.

  NAME...            the entries to run (see --list)
  --all              every entry
  --list             the catalogue: names, sources, claims and variants
  --out DIR          write each variant's scenario, trace (JSON lines) and timeline
                     picture (scripts/plot_timeline.py, needs python3-matplotlib) to DIR,
                     and the result table as DIR/repro.md
  --live zk:HOST:PORT
                     also run the variants whose faults all have a live form on this
                     ZooKeeper (lockstep live SCENARIO); give it once per store for
                     algorithms with several stores. Live results compare checkers only.
  --catalogue DIR    read the catalogue from DIR (same shape as docs/repro/) instead of
                     the built-in one
  --help             this text

The catalogue's format is in docs/repro.md: DIR/<entry>/entry.json names the source,
the claim and the variants; each variant's scenario is a file beside it.

Exit status: 0 every claim reproduced, 1 a variant's result departs from its claim,
2 bad input.
)";

struct VariantResult {
  std::string entry, variant, world;  // world: "sim" or "live"
  std::string predicted, found;
  std::vector<std::string> mismatches;
  std::string picture;  // file name in --out, if drawn
};

// The timeline script beside an installed binary or in the source tree it was built from.
std::string find_plot_script() {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "";
  for (const fs::path& p : {exe.parent_path() / "../share/lockstep/plot_timeline.py",
                            exe.parent_path() / "../scripts/plot_timeline.py"})
    if (fs::is_regular_file(p, ec)) return fs::weakly_canonical(p, ec).string();
  return "";
}

// Runs python3 SCRIPT TRACE -o PNG --title TITLE without a shell; its output is dropped:
// a missing picture leaves its cell of repro.md empty.
bool draw_timeline(const std::string& script, const std::string& trace, const std::string& png,
                   const std::string& title) {
  // What this process has buffered goes out once, before the child could copy it.
  std::cout.flush();
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    const int null_fd = open("/dev/null", O_WRONLY);
    if (null_fd >= 0) {
      dup2(null_fd, STDOUT_FILENO);
      dup2(null_fd, STDERR_FILENO);
    }
    // Debian's python3 first: it has python3-matplotlib, where a python3 of pyenv or a
    // virtualenv earlier on the PATH often has not.
    const char* python = access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
    execlp(python, python, script.c_str(), trace.c_str(), "-o", png.c_str(), "--title",
           title.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// A live form for every fault, no nemesis, and a store for each the algorithm opens.
std::string why_not_live(const sim::Scenario& sc, size_t stores_given) {
  if (sc.nemesis.enabled) return "its nemesis has no live form";
  for (const auto& f : sc.faults)
    if (!sim::live_form(f)) return std::string(sim::fault_name(f.kind)) + " has no live form";
  const AlgorithmInfo& algo = resolve_algorithm(sc.algorithm);
  const size_t stores = static_cast<size_t>(algo.store_count(algo.validate(sc.options)));
  if (stores > stores_given)
    return sc.algorithm + " needs " + std::to_string(stores) + " stores, " +
           std::to_string(stores_given) + " --live given";
  return "";
}

// Runs `lockstep live FILE --store ...` in this process and reads its verdict table: the
// one printer (cli/report) writes "CHECKER  PASS|FAIL  ..." per checker.
sim::repro::Observed run_live(const std::string& scenario_file,
                              const std::vector<std::string>& stores, int& status) {
  std::vector<std::string> argv = {scenario_file};
  for (const auto& s : stores) argv.insert(argv.end(), {"--store", s});
  std::ostringstream captured;
  std::streambuf* old = std::cout.rdbuf(captured.rdbuf());
  try {
    status = live_command(argv);
  } catch (...) {
    std::cout.rdbuf(old);
    throw;
  }
  std::cout.rdbuf(old);
  sim::repro::Observed seen;
  std::istringstream lines(captured.str());
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string name, verdict;
    words >> name >> verdict;
    for (const auto& row : checker_table())
      if (name == row.name && (verdict == "PASS" || verdict == "FAIL"))
        seen.verdicts[name] = verdict == "PASS";
  }
  return seen;
}

std::string md_cell(std::string s) {
  for (size_t i = 0; (i = s.find('|', i)) != std::string::npos; i += 2) s.replace(i, 1, "\\|");
  return s;
}

void list(const std::vector<sim::repro::Entry>& entries) {
  for (const auto& e : entries) {
    std::cout << e.name << "  " << e.title << "\n  source: " << e.source << " <" << e.link
              << ">\n  claim:  " << e.claim << "\n";
    for (const auto& v : e.variants)
      std::cout << "  variant " << v.name << " (" << v.scenario_file
                << "): " << sim::repro::describe(v.expect) << "\n";
  }
}

}  // namespace

int repro_command(const std::vector<std::string>& argv) {
  Args args(argv, {"--out", "--live", "--catalogue"}, {"--all", "--list", "--help"});
  if (args.has("--help")) {
    std::cout << kReproHelp;
    return 0;
  }
  std::vector<sim::repro::Entry> entries;
  try {
    entries = sim::repro::parse_catalogue(
        args.value("--catalogue") ? sim::repro::read_catalogue_dir(*args.value("--catalogue"))
                                  : sim::repro::builtin_catalogue_files());
  } catch (const sim::repro::CatalogueError& e) {
    throw UsageError{"catalogue: " + e.message};
  }
  if (args.has("--list")) {
    if (!args.positional().empty() || args.has("--all"))
      throw UsageError{"--list takes no entry names and no --all"};
    list(entries);
    return 0;
  }
  if (args.has("--all") == !args.positional().empty())
    throw UsageError{args.has("--all") ? "give entry names or --all, not both"
                                       : "give entry names or --all (see --list)"};
  std::vector<const sim::repro::Entry*> chosen;
  for (const auto& name : args.positional()) {
    auto it =
        std::find_if(entries.begin(), entries.end(), [&](const auto& e) { return e.name == name; });
    if (it == entries.end()) throw UsageError{"no entry \"" + name + "\" (see --list)"};
    chosen.push_back(&*it);
  }
  if (args.has("--all"))
    for (const auto& e : entries) chosen.push_back(&e);
  const auto live_stores = args.values("--live");
  for (const auto& s : live_stores)
    if (s.rfind("zk:", 0) != 0) throw UsageError{"--live: \"" + s + "\" is not zk:HOST:PORT"};

  std::string out_dir;
  std::string plot_script;
  if (auto dir = args.value("--out")) {
    out_dir = *dir;
    std::error_code ec;
    std::filesystem::create_directories(out_dir, ec);
    if (ec || !std::filesystem::is_directory(out_dir))
      throw UsageError{"--out: cannot create directory \"" + out_dir + "\""};
    plot_script = find_plot_script();
    if (plot_script.empty())
      std::cerr << "lockstep repro: note: scripts/plot_timeline.py not found beside this "
                   "binary; traces are written, pictures are not\n";
  }

  std::vector<VariantResult> results;
  for (const auto* entry : chosen) {
    std::cout << entry->name << ": " << entry->title << "\n  source: " << entry->source << " <"
              << entry->link << ">\n  claim:  " << entry->claim << "\n";
    for (const auto& variant : entry->variants) {
      const sim::Scenario sc = sim::parse_scenario(variant.scenario_text);
      const std::string stem = entry->name + "--" + variant.name;
      sim::RunResult run;
      try {
        run = sim::run_scenario(sc, sim::RunOptions{.keep_trace = !out_dir.empty()});
      } catch (const sim::ScenarioError& e) {
        // A variant that cannot run (its run budget spent): bad input, named.
        throw UsageError{entry->name + "/" + variant.scenario_file + ": " + e.message};
      }
      const sim::repro::Observed seen = sim::repro::observe(run);
      VariantResult r{.entry = entry->name,
                      .variant = variant.name,
                      .world = "sim",
                      .predicted = sim::repro::describe(variant.expect),
                      .found = sim::repro::describe(seen, variant.expect),
                      .mismatches = sim::repro::mismatches(variant.expect, seen),
                      .picture = {}};
      if (!out_dir.empty()) {
        const std::string base = out_dir + "/" + stem;
        std::string trace;
        for (const auto& line : run.trace) trace += line + "\n";
        sim::search::write_text_file(base + ".json", variant.scenario_text);
        sim::search::write_text_file(base + ".trace.jsonl", trace);
        if (!plot_script.empty() && draw_timeline(plot_script, base + ".trace.jsonl", base + ".png",
                                                  entry->name + ": " + variant.name))
          r.picture = stem + ".png";
      }
      std::vector<VariantResult> runs = {r};

      if (!live_stores.empty()) {
        const std::string why = why_not_live(sc, live_stores.size());
        if (!why.empty()) {
          std::cout << "  " << variant.name << " (live): skipped, " << why << "\n";
        } else {
          // live reads a file: the variant's, written where --out says or to a temp file.
          std::string file = out_dir.empty() ? "" : out_dir + "/" + stem + ".json";
          char tmp[] = "/tmp/lockstep-repro-XXXXXX.json";
          if (file.empty()) {
            const int fd = mkstemps(tmp, 5);
            if (fd < 0) throw UsageError{"--live: cannot create a temporary file"};
            close(fd);
            file = tmp;
            sim::search::write_text_file(file, variant.scenario_text);
          }
          int status = 0;
          sim::repro::Expectation checkers_only = variant.expect;
          checkers_only.counts.clear();
          const sim::repro::Observed live = run_live(file, live_stores, status);
          if (out_dir.empty()) std::filesystem::remove(file);
          VariantResult lr{.entry = entry->name,
                           .variant = variant.name,
                           .world = "live",
                           .predicted = sim::repro::describe(checkers_only),
                           .found = sim::repro::describe(live, checkers_only),
                           .mismatches = sim::repro::mismatches(checkers_only, live),
                           .picture = {}};
          if (status == 2) lr.mismatches.push_back("lockstep live refused the scenario (exit 2)");
          runs.push_back(lr);
        }
      }
      for (const auto& run_result : runs) {
        std::cout << "  " << run_result.variant << " (" << run_result.world
                  << "): " << (run_result.mismatches.empty() ? "REPRODUCED" : "NOT REPRODUCED")
                  << "\n"
                  << "      claim predicts: " << run_result.predicted << "\n"
                  << "      lockstep found: " << run_result.found << "\n";
        for (const auto& m : run_result.mismatches) std::cout << "      departs: " << m << "\n";
        results.push_back(run_result);
      }
    }
    std::cout << "\n";
  }

  size_t reproduced = 0;
  for (const auto& r : results) reproduced += r.mismatches.empty();
  std::cout << "reproduced " << reproduced << " of " << results.size() << " variant runs\n";

  if (!out_dir.empty()) {
    std::ostringstream md;
    md << "| entry | source | claim | variant | world | claim predicts | lockstep found | result "
          "| timeline |\n|---|---|---|---|---|---|---|---|---|\n";
    for (const auto& r : results) {
      const auto& e = *std::find_if(entries.begin(), entries.end(),
                                    [&](const auto& x) { return x.name == r.entry; });
      md << "| " << md_cell(e.name) << " | [" << md_cell(e.source) << "](" << e.link << ") | "
         << md_cell(e.claim) << " | " << md_cell(r.variant) << " | " << r.world << " | "
         << md_cell(r.predicted) << " | " << md_cell(r.found) << " | "
         << (r.mismatches.empty() ? "reproduced"
                                  : "**not reproduced**: " + md_cell(r.mismatches[0]))
         << " | " << (r.picture.empty() ? "" : "![](" + r.picture + ")") << " |\n";
    }
    md << "\n" << reproduced << " of " << results.size() << " variant runs reproduced.\n";
    sim::search::write_text_file(out_dir + "/repro.md", md.str());
  }
  return reproduced == results.size() ? 0 : 1;
}

}  // namespace lockstep::cli
