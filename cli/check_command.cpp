// `lockstep check`: the property search. Generates scenarios for one algorithm (or, with
// --all, for every algorithm under every fault class), runs them in the simulator on
// several cores, shrinks a failing one to a minimal counterexample, writes it as a
// scenario file with its trace, checks that the file replays to the same verdict, and
// explains it.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>

#include "cli/args.h"
#include "cli/check_search.h"
#include "cli/commands.h"
#include "cli/matrix_shards.h"
#include "cli/parallel.h"
#include "cli/shard_manifest.h"
#include "core/check/judge.h"
#include "core/lock.h"
#include "sim/faults/table.h"
#include "sim/run.h"
#include "sim/scenario.h"
#include "sim/search/counterexample_writer.h"
#include "sim/search/matrix.h"
#include "sim/search/matrix_search.h"
#include "sim/search/search.h"

namespace lockstep::cli {

// A user's program built on cli_main alone knows the user's algorithms and so is the one
// that replays their counterexamples.
std::string program_name() {
  char path[4096];
  const ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
  if (n <= 0) return "lockstep";
  const std::string exe(path, static_cast<size_t>(n));
  return exe.substr(exe.rfind('/') + 1);
}

namespace {

namespace search = sim::search;
using Clock = std::chrono::steady_clock;

const char* kCheckHelp =
    R"(usage: lockstep check --algo A [--faults LIST|all|none] [--runs N] [--seed S]
                      [--jobs J] [--shard K/N] [--out DIR] [--resource fenced|unfenced|none]
                      [--resource-store same|separate]
                      [--fencing czxid|sequence|none] [--option KEY=VALUE]
                      [--checkers LIST] [--max-shrink N]
       lockstep check --all [--algo LIST] [--runs N] [--seed S] [--jobs J] [--out DIR]
                      [--checkers LIST] [--max-shrink N] [--shard K/N]

Searches for schedules that break a lock: generates scenarios (2-8 clients, 1-8 cycles,
holds of 1ms-3s, session timeouts of 1-4s, network latency, and up to 4 faults sized
around the session timeout), runs each in the simulator and checks every verdict. The
first failing scenario is shrunk to a minimal counterexample (fewer faults, clients,
cycles, shorter times) that still fails the same checker, written to DIR as a scenario
file with its trace, replayed from the file to confirm the verdict, and explained.

  --algo A            the algorithm (lockstep algorithms lists them)
  --faults LIST       fault kinds (listed below) or fault classes (see --all) to draw
                      from, comma-separated; "all" (default) or "none"
  --runs N            scenarios to generate (default 1000; --all: 2000 per algorithm and
                      fault class; at most 10^12). A search keeps nothing a run: its
                      memory does not grow with N
  --seed S            base seed (default 1): case i is generated from splitmix64(S + i)
  --jobs J            worlds run on J threads (default: the number of cores); the result
                      is the same for any J (more than the cores is allowed, with a note:
                      the threads then take turns, no faster)
  --shard K/N         run only the cases i with i % N == K (0 <= K < N): N machines with
                      K = 0..N-1 together run exactly the unsharded search. Each shard
                      also writes DIR/lockstep-shard-K-of-N.json, and `lockstep merge`
                      turns the N of them into the unsharded result, byte for byte. With
                      --all, a shard runs its share of every cell and leaves the shrinks
                      to the merge (see lockstep merge --help, docs/check.md)
  --out DIR           where counterexamples go (default lockstep-out)
  --resource R        a resource in every critical section: fenced, unfenced or none
                      (default: fenced if the algorithm has a fencing token, else unfenced)
  --resource-store S  where the resource lives: same (on the lock's own session, the
                      default) or separate (a storage service of its own; see
                      docs/scenario.md)
  --fencing F         where the resource's token comes from: czxid, sequence or none
  --option KEY=VALUE  an algorithm option in every generated scenario (repeatable), e.g.
                      --option stores=5 for redlock on five stores (store_crash joins "all")
                      (default: the algorithm's own)
  --checkers LIST     only these checkers count as failures (default: every checker)
  --max-shrink N      simulated runs a shrink may spend (default 400)
  --all               the safety matrix: every algorithm (or those of --algo LIST) x
                      fault class (none, pause, clock, partition, lost-reply, crash, all)
                      x checker, printed and written as DIR/matrix.json and DIR/matrix.md
  --help              this text

A search that runs longer than 2 s shows a progress line on stderr. Exit status: 0 every
run held, 1 a checker was violated (the counterexample is in DIR), 2 bad input.
)";

// The fault kinds of the table, for --help, wrapped as the text above.
std::string fault_kinds_help() {
  std::string out = "\nfault kinds (docs/scenario.md):";
  size_t column = out.size() - 1;
  const auto& table = sim::fault_table();
  for (size_t i = 0; i < table.size(); ++i) {
    const sim::FaultDescriptor& d = *table[i];
    std::string word(d.name);
    for (std::string_view alias : d.aliases) word += " (or " + std::string(alias) + ")";
    if (d.min_stores > 1) word += " (on " + std::to_string(d.min_stores) + "+ stores)";
    word += i + 1 < table.size() ? "," : "\n";
    if (column + 1 + word.size() > 90) {
      out += "\n ";
      column = 1;
    }
    out += " " + word;
    column += 1 + word.size();
  }
  return out;
}

constexpr uint64_t kDefaultRuns = 1000;
// The matrix's default budget. Measured (docs/check.md): about 0.6 ms of CPU per run on
// average plus about 0.25 s per shrink, so 9 algorithms x 7 fault classes x 2000 runs and
// their shrinks come to roughly a minute with --jobs 2.
constexpr uint64_t kDefaultMatrixRuns = 2000;
constexpr int kDefaultShrinkRuns = 400;

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : text + ",") {
    if (c == ',') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else if (c != ' ') {
      cur += c;
    }
  }
  return out;
}

std::string join(const std::vector<std::string>& v, const std::string& sep = ", ") {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? sep : "") + v[i];
  return out;
}

}  // namespace

search::Shard parse_shard(const std::string& text) {
  auto slash = text.find('/');
  auto number = [&](const std::string& s) -> std::optional<uint64_t> {
    if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos)
      return std::nullopt;
    return std::stoull(s);
  };
  std::optional<uint64_t> k, n;
  if (slash != std::string::npos) {
    k = number(text.substr(0, slash));
    n = number(text.substr(slash + 1));
  }
  if (!k || !n || *n == 0 || *k >= *n)
    throw UsageError{"--shard: \"" + text + "\" is not K/N with 0 <= K < N (e.g. 0/4)"};
  return search::Shard{*k, *n};
}

namespace {

// The fault kinds of --faults for an algorithm, each checked.
std::vector<FaultKind> parse_faults(const std::string& text, const AlgorithmInfo& algorithm,
                                    int stores) {
  if (text == "none") return {};
  std::vector<FaultKind> out;
  for (const auto& name : split_list(text)) {
    std::vector<FaultKind> kinds;
    try {
      kinds = search::fault_class_kinds(name, algorithm, stores);
    } catch (const std::invalid_argument& e) {
      throw UsageError{std::string("--faults: ") + e.what()};
    }
    const auto supported = search::supported_fault_kinds(algorithm, stores);
    for (FaultKind k : kinds)
      if (std::find(supported.begin(), supported.end(), k) == supported.end())
        throw UsageError{"--faults: " + std::string(sim::fault_name(k)) +
                         " needs an algorithm on " +
                         std::to_string(sim::fault_descriptor(k).min_stores) + " stores or more (" +
                         algorithm.name + " uses " + std::to_string(stores > 0 ? stores : 1) + ")"};
    for (auto& k : kinds)
      if (std::find(out.begin(), out.end(), k) == out.end()) out.push_back(k);
  }
  if (out.empty() && text != "none")
    throw UsageError{"--faults: empty list (use \"none\" for no faults)"};
  return out;
}

// The catalogue entry --algo names.
const AlgorithmInfo& algorithm_flag(const std::string& name) {
  try {
    return resolve_algorithm(name);
  } catch (const UnknownAlgorithm& e) {
    throw UsageError{std::string("--algo: ") + e.what()};
  }
}

int parse_jobs(const Args& args) {
  auto v = args.unsigned_value("--jobs");
  if (!v) return default_jobs();
  if (*v == 0 || *v > 1024) throw UsageError{"--jobs: must be 1..1024, got " + std::to_string(*v)};
  // More threads than cores is allowed (the result is the same for any J); say what it
  // costs rather than take it silently.
  if (const int cores = default_jobs(); static_cast<int>(*v) > cores)
    std::cerr << "lockstep check: note: --jobs " << *v << " on " << cores
              << " cores: the threads take turns on the cores (same result, no faster)\n";
  return static_cast<int>(*v);
}

// The progress line: runs done, runs/s, violations, time left. Silent for the first 2 s
// (short searches print nothing); on a terminal it rewrites one line, elsewhere (a log
// file, CI) it prints a line every 5 s.
class Progress {
 public:
  // `unit`: what is counted ("runs"); `violations`: whether the line reports them.
  Progress(std::string what, uint64_t total, std::string unit = "runs", bool violations = true)
      : what_(std::move(what)),
        unit_(std::move(unit)),
        total_(total),
        with_violations_(violations),
        start_(Clock::now()),
        tty_(isatty(2) != 0) {}
  ~Progress() { finish(); }

  void update(uint64_t done, uint64_t violations) {
    const auto now = Clock::now();
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    if (elapsed < 2.0) return;
    const double since = std::chrono::duration<double>(now - last_).count();
    if (shown_ && since < (tty_ ? 0.25 : 5.0)) return;
    last_ = now;
    const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0;
    char line[256];
    std::snprintf(line, sizeof line, "%s: %llu/%llu %s, %.0f %s/s", what_.c_str(),
                  static_cast<unsigned long long>(done), static_cast<unsigned long long>(total_),
                  unit_.c_str(), rate, unit_.c_str());
    std::string text = line;
    if (with_violations_) {
      std::snprintf(line, sizeof line, ", %llu violation%s",
                    static_cast<unsigned long long>(violations), violations == 1 ? "" : "s");
      text += line;
    }
    if (rate > 0 && done < total_) {
      const double left = static_cast<double>(total_ - done) / rate;
      std::snprintf(line, sizeof line, ", about %.0fs left", left + 0.5);
      text += line;
    }
    if (tty_) {
      const size_t width = std::max(width_, text.size());
      std::cerr << "\r" << text << std::string(width - text.size(), ' ') << std::flush;
      width_ = text.size();
    } else {
      std::cerr << text << "\n" << std::flush;
    }
    shown_ = true;
  }

  // Ends the line on a terminal, so what follows starts on a fresh one.
  void finish() {
    if (shown_ && tty_) std::cerr << "\r" << std::string(width_, ' ') << "\r" << std::flush;
    shown_ = false;
  }

 private:
  std::string what_, unit_;
  uint64_t total_;
  bool with_violations_;
  Clock::time_point start_, last_;
  bool tty_;
  bool shown_ = false;
  size_t width_ = 0;
};

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

std::vector<std::string> fault_names(const std::vector<FaultKind>& kinds) {
  std::vector<std::string> out;
  for (FaultKind k : kinds) out.emplace_back(sim::fault_name(k));
  return out;
}

// One line per scheduled fault, in words.
std::string describe_fault(const sim::Fault& f) {
  return sim::fault_descriptor(f.kind).describe(f);
}

std::string describe_scenario(const sim::Scenario& s) {
  std::ostringstream o;
  o << s.algorithm << ", " << s.clients << " clients x " << s.workload.cycles
    << (s.workload.cycles == 1 ? " cycle" : " cycles") << " (hold "
    << format_duration(s.workload.hold) << ", think " << format_duration(s.workload.think)
    << "), session timeout " << format_duration(s.session_timeout) << ", latency "
    << format_duration(s.network.latency.min) << ".." << format_duration(s.network.latency.max);
  if (s.resource.enabled)
    o << ", resource " << (s.resource.fenced ? "fenced" : "unfenced")
      << (s.resource.separate_store ? " (separate)" : "");
  if (!s.fencing.empty()) o << ", fencing " << s.fencing;
  o << ", seed " << s.seed;
  return o.str();
}

void make_out_dir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir))
    throw UsageError{"--out: cannot create directory \"" + dir + "\"" +
                     (ec ? ": " + ec.message() : std::string())};
}

std::string plural(int64_t n, const std::string& one, const std::string& many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// The one-screen explanation of a counterexample.
void explain(std::ostream& out, const search::Counterexample& cx,
             const search::WrittenCounterexample& w, uint64_t base_seed, uint64_t runs_done) {
  const sim::Scenario& s = cx.minimal;
  out << "VIOLATION: " << s.algorithm << " fails " << cx.checker << "\n";
  out << "found in case " << cx.found_in.index << " (base seed " << base_seed << ", after "
      << plural(static_cast<int64_t>(runs_done), "run", "runs") << "), shrunk in "
      << plural(cx.shrink_runs, "run", "runs") << " from " << cx.original.clients << " clients x "
      << cx.original.workload.cycles << " cycles, "
      << plural(static_cast<int64_t>(cx.original.faults.size()), "fault", "faults") << " to "
      << s.clients << " clients x " << s.workload.cycles << " cycles, "
      << plural(static_cast<int64_t>(s.faults.size()), "fault", "faults")
      << (cx.shrink_capped ? " (shrink budget spent: may not be minimal)" : "") << "\n\n";

  out << "scenario:  " << describe_scenario(s) << "\n";
  if (s.faults.empty()) out << "faults:    none\n";
  for (size_t i = 0; i < s.faults.size(); ++i)
    out << (i == 0 ? "faults:    " : "           ") << "at " << format_seconds(s.faults[i].at)
        << "  " << describe_fault(s.faults[i]) << "\n";
  // What the faults did, with their true times (a "holder" resolves to a client here).
  std::vector<std::string> happened;
  for (const auto& e : w.replay.history.events())
    if (e.kind == EventKind::Fault)
      happened.push_back(
          format_instant(e.lo) + "  " +
          (e.client >= 0 ? "client " + std::to_string(e.client) : std::string("server")) + ": " +
          e.detail);
  const size_t kMaxHappened = 8;
  for (size_t i = 0; i < happened.size() && i < kMaxHappened; ++i)
    out << (i == 0 ? "happened:  " : "           ") << happened[i] << "\n";
  if (happened.size() > kMaxHappened)
    out << "           ... and " << happened.size() - kMaxHappened << " more\n";

  const Verdict& v = cx.verdict;
  out << "\n" << cx.checker << ": " << v.summary << "\n";
  const size_t kMaxDetails = 6;
  for (size_t i = 0; i < v.details.size() && i < kMaxDetails; ++i)
    out << "  " << v.details[i] << "\n";
  if (v.details.size() > kMaxDetails)
    out << "  ... and " << v.details.size() - kMaxDetails << " more (in the trace)\n";
  if (!v.clients.empty()) {
    std::vector<std::string> names;
    for (int c : v.clients) names.push_back(std::to_string(c));
    out << "clients:   " << join(names) << "\n";
  }

  out << "\ncounterexample  " << w.scenario_path << "\n";
  out << "trace           " << w.trace_path << "\n";
  if (w.replays_same)
    out << "replayed        from the file: fails " << cx.checker << " the same way\n";
  else
    out << "REPLAY MISMATCH " << w.mismatch << " (a bug in lockstep: please report it)\n";
  out << "replay with     " << program_name() << " run " << w.scenario_path << "\n";
}

std::string shard_suffix(const search::Shard& shard) {
  return shard.count > 1
             ? " (shard " + std::to_string(shard.index) + "/" + std::to_string(shard.count) + ")"
             : "";
}

}  // namespace

Args check_args(const std::vector<std::string>& argv) {
  return Args(argv,
              {"--algo", "--faults", "--runs", "--seed", "--jobs", "--shard", "--out", "--resource",
               "--resource-store", "--fencing", "--option", "--checkers", "--max-shrink"},
              {"--all", "--help"});
}

CommonFlags common_flags(const Args& args) {
  CommonFlags common;
  common.seed = args.unsigned_value("--seed").value_or(1);
  common.jobs = parse_jobs(args);
  common.out_dir = args.value("--out").value_or("lockstep-out");
  if (common.out_dir.empty()) throw UsageError{"--out: must not be empty"};
  if (auto c = args.value("--checkers")) {
    common.checkers = split_list(*c);
    if (common.checkers.empty()) throw UsageError{"--checkers: empty list"};
    // A misspelt checker would count nothing and let every run "hold".
    for (const auto& name : common.checkers) {
      const auto& table = checker_table();
      if (std::none_of(table.begin(), table.end(),
                       [&](const CheckerRow& r) { return r.name == name; })) {
        std::string known;
        for (const auto& r : table) known += (known.empty() ? "" : ", ") + std::string(r.name);
        throw UsageError{"--checkers: unknown checker \"" + name + "\" (known: " + known + ")"};
      }
    }
  }
  if (auto r = args.unsigned_value("--runs")) {
    if (*r == 0) throw UsageError{"--runs: must be at least 1"};
    if (*r > search::kMaxRuns)
      throw UsageError{"--runs: must be at most " + std::to_string(search::kMaxRuns) + ", got " +
                       std::to_string(*r)};
    common.runs = *r;
  }
  if (auto n = args.unsigned_value("--max-shrink")) {
    if (*n > INT_MAX) throw UsageError{"--max-shrink: too large"};
    common.max_shrink = static_cast<int>(*n);
  }
  return common;
}

AlgoSearch algo_search(const Args& args, const CommonFlags& common) {
  const auto algo_name = args.value("--algo");
  if (!algo_name) throw UsageError{"--algo A or --all is required (see --help)"};
  AlgoSearch out;
  out.info = &algorithm_flag(*algo_name);
  const AlgorithmInfo* info = out.info;
  search::SearchConfig& cfg = out.config;
  cfg.space.algorithm = info;
  for (const auto& kv : args.values("--option")) {
    const auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      throw UsageError{"--option: \"" + kv + "\" is not KEY=VALUE"};
    const std::string key = kv.substr(0, eq);
    if (!info->option(key))
      throw UsageError{"--option " + key + ": unknown option of " + info->name +
                       " (see lockstep algorithms)"};
    cfg.space.options.set(key, kv.substr(eq + 1));
    out.options.push_back(kv);
  }
  int stores = 0;
  try {
    stores = info->store_count(info->validate(cfg.space.options));
  } catch (const OptionError& e) {
    throw UsageError{"--option " + e.key + ": " + e.problem};
  }
  cfg.space.fault_kinds = parse_faults(args.value("--faults").value_or("all"), *info, stores);
  const std::string resource =
      args.value("--resource").value_or(info->has_fencing_token ? "fenced" : "unfenced");
  if (resource != "fenced" && resource != "unfenced" && resource != "none")
    throw UsageError{"--resource: \"" + resource + "\" is not fenced, unfenced or none"};
  cfg.space.resource = resource != "none";
  cfg.space.fenced = resource == "fenced";
  const std::string resource_store = args.value("--resource-store").value_or("same");
  if (resource_store != "same" && resource_store != "separate")
    throw UsageError{"--resource-store: \"" + resource_store + "\" is not same or separate"};
  if (resource == "none" && args.has("--resource-store"))
    throw UsageError{"--resource-store: there is no resource (--resource none)"};
  cfg.space.separate_resource = resource_store == "separate";
  if (auto f = args.value("--fencing")) {
    if (*f != "czxid" && *f != "sequence" && *f != "none")
      throw UsageError{"--fencing: \"" + *f + "\" is not czxid, sequence or none"};
    cfg.space.fencing = *f;
  }
  cfg.seed = common.seed;
  cfg.runs = common.runs.value_or(kDefaultRuns);
  cfg.checkers = common.checkers;
  cfg.max_shrink_runs = common.max_shrink.value_or(kDefaultShrinkRuns);
  if (auto shard = args.value("--shard")) cfg.shard = parse_shard(*shard);
  out.space = "faults: " +
              (cfg.space.fault_kinds.empty() ? std::string("none")
                                             : join(fault_names(cfg.space.fault_kinds))) +
              "; resource: " + resource + (cfg.space.separate_resource ? " (separate)" : "") +
              (cfg.space.fencing.empty() ? "" : "; fencing: " + cfg.space.fencing);
  return out;
}

search::MatrixConfig matrix_config(const Args& args, const CommonFlags& common) {
  // --algo with --all picks the matrix's rows (default: the whole catalogue).
  std::vector<const AlgorithmInfo*> rows;
  if (auto list = args.value("--algo")) {
    for (const auto& name : split_list(*list)) {
      rows.push_back(&algorithm_flag(name));
    }
    if (rows.empty()) throw UsageError{"--algo: empty list"};
  } else {
    for (const auto& a : algorithms()) rows.push_back(&a);
  }
  search::MatrixConfig cfg;
  for (const AlgorithmInfo* a : rows) cfg.algorithms.push_back(a->name);
  cfg.seed = common.seed;
  cfg.runs = common.runs.value_or(kDefaultMatrixRuns);
  cfg.checkers = common.checkers;
  cfg.max_shrink_runs = common.max_shrink.value_or(kDefaultShrinkRuns);
  cfg.out_dir = common.out_dir;
  cfg.command = "lockstep check --all --runs " + std::to_string(cfg.runs) + " --seed " +
                std::to_string(common.seed) + " --out " + common.out_dir;
  if (args.has("--algo")) cfg.command += " --algo " + join(cfg.algorithms, ",");
  if (!common.checkers.empty()) cfg.command += " --checkers " + join(common.checkers, ",");
  if (common.max_shrink) cfg.command += " --max-shrink " + std::to_string(*common.max_shrink);
  return cfg;
}

int report_violation(const search::Search& search, const std::string& algorithm, uint64_t index,
                     const std::string& checker, const std::string& out_dir,
                     const std::string& shard, const std::string& space, uint64_t runs_done) {
  std::cerr << "check " << algorithm << ": case " << index << " fails " << checker
            << "; shrinking...\n";
  const search::Counterexample cx = search.shrink(index, checker);
  const search::WrittenCounterexample w =
      search::write_counterexample(cx, out_dir, algorithm + "-" + checker);
  std::cout << algorithm << ": " << checker << " violated" << shard << " (" << space << ")\n\n";
  explain(std::cout, cx, w, search.config().seed, runs_done);
  return w.replays_same ? 1 : 3;
}

namespace {

int check_one(const Args& args, const CommonFlags& common, const std::vector<std::string>& argv) {
  const AlgoSearch setup = algo_search(args, common);
  const AlgorithmInfo* info = setup.info;
  const search::SearchConfig& cfg = setup.config;
  const search::Search search(cfg);
  const uint64_t case_count = search.case_count();
  make_out_dir(common.out_dir);  // a bad --out is bad input: say so before searching

  // Cases are handed out in order and stop once one fails, so the lowest failing case is
  // the same for any number of jobs (parallel_for says why). Only that case is kept, so
  // any --runs fits in memory.
  struct Failure {
    size_t position;  // among this shard's cases
    search::CaseResult result;
  };
  std::optional<Failure> lowest;
  // Checker names are the runs' own, known only once something ran: a misspelt name in
  // --checkers would otherwise silently count nothing.
  std::set<std::string> reported;
  std::mutex recording;
  std::atomic<uint64_t> done{0}, violations{0};
  std::atomic<bool> found{false};
  Progress progress("check " + info->name, case_count);
  const auto start = Clock::now();
  parallel_for(
      case_count, common.jobs,
      [&](size_t k) {
        search::CaseResult r = search.run_case(search.case_at(k));
        const bool failed = !r.failed.empty();
        {
          const std::lock_guard<std::mutex> guard(recording);
          reported.insert(r.checkers.begin(), r.checkers.end());
          if (failed && (!lowest || k < lowest->position))
            lowest = Failure{.position = k, .result = std::move(r)};
        }
        if (failed) {
          ++violations;
          found = true;
        }
        ++done;
      },
      [&] { return found.load(); }, [&] { progress.update(done, violations); });
  progress.finish();
  const double elapsed = seconds_since(start);
  for (const auto& c : cfg.checkers)
    if (!reported.count(c))
      std::cerr << "check " << info->name << ": warning: --checkers: no run reported \"" << c
                << "\" (reported: " << join({reported.begin(), reported.end()}) << ")\n";

  if (args.has("--shard")) {
    // What `lockstep merge` needs of this shard: the search it ran and its lowest failing
    // case (every case below it ran and held), or that every case held.
    ShardManifest m = algo_manifest(setup, search);
    m.args = search_args(argv);
    m.shard = cfg.shard;
    m.result["cases"] = case_count;
    if (lowest)
      m.result["first_failure"] = {{"case", lowest->result.index},
                                   {"checker", lowest->result.failed.front()}};
    else
      m.result["first_failure"] = nullptr;
    write_manifest(common.out_dir, m);
  }

  const std::string shard = shard_suffix(cfg.shard);
  if (!lowest) {
    char rate[64];
    std::snprintf(rate, sizeof rate, "%.1fs, %.0f runs/s", elapsed,
                  elapsed > 0 ? static_cast<double>(case_count) / elapsed : 0.0);
    std::cout << info->name << ": all " << case_count << " runs held" << shard << " ("
              << setup.space << "; seed " << cfg.seed << "; " << rate << ")\n";
    return 0;
  }
  const search::CaseResult& failing = lowest->result;
  return report_violation(search, info->name, failing.index, failing.failed.front(), common.out_dir,
                          shard, setup.space, lowest->position + 1);
}

// `check --all --shard K/N`: this shard's cases of every cell, tallied, for `merge`. The
// shrinks wait for the merge, which alone knows each cell's lowest failing case.
int check_all_shard(const search::MatrixConfig& cfg, const search::Shard& shard,
                    const CommonFlags& common, const std::vector<std::string>& argv) {
  const std::vector<MatrixCellSearch> cells = matrix_cells(cfg, shard);
  make_out_dir(common.out_dir);
  size_t total = 0;
  for (const auto& c : cells) total += c.search->case_count();
  std::vector<CellTallies> tallies;
  {
    Progress progress("check --all" + shard_suffix(shard), total);
    tallies = run_matrix_shard(cells, common.jobs, [&](uint64_t done, uint64_t violations) {
      progress.update(done, violations);
    });
  }
  ShardManifest m = matrix_manifest(cfg, cells);
  m.args = search_args(argv);
  m.shard = shard;
  m.result = tallies_to_json(tallies);
  m.result["runs"] = total;
  const std::string path = write_manifest(common.out_dir, m);
  int64_t violating = 0, pairs = 0;
  for (const auto& c : tallies)
    for (const auto& [name, t] : c.tallies) {
      violating += t.violations;
      pairs += t.violations > 0;
    }
  std::cout << "check --all" << shard_suffix(shard) << ": " << total << " runs over "
            << cells.size() << " cells; " << plural(violating, "run", "runs")
            << " failed a checker, in "
            << plural(pairs, "(cell, checker) pair", "(cell, checker) pairs") << "\nshard: " << path
            << "\nthe matrix: lockstep merge DIR... --out DIR, once all " << shard.count
            << " shards are done\n";
  return violating > 0 ? 1 : 0;
}

int check_all(const Args& args, const CommonFlags& common, const std::vector<std::string>& argv) {
  for (const char* flag : {"--faults", "--resource", "--resource-store", "--fencing"})
    if (args.has(flag))
      throw UsageError{std::string(flag) +
                       ": not with --all (the matrix runs every fault class "
                       "with its own resource; see docs/check.md)"};
  // Each row runs its algorithm's own options; one option cannot suit every row.
  if (args.has("--option"))
    throw UsageError{
        "--option: not with --all (each row runs its algorithm's defaults; "
        "check --algo A --option KEY=VALUE searches one algorithm so set)"};
  const search::MatrixConfig cfg = matrix_config(args, common);
  if (auto shard = args.value("--shard"))
    return check_all_shard(cfg, parse_shard(*shard), common, argv);
  search::MatrixSearch matrix(cfg);
  make_out_dir(common.out_dir);

  const size_t total = matrix.run_count();
  std::atomic<uint64_t> done{0}, violations{0};
  const auto start = Clock::now();
  {
    Progress progress("check --all", total);
    parallel_for(
        total, common.jobs,
        [&](size_t k) {
          if (matrix.run(k)) ++violations;
          ++done;
        },
        nullptr, [&] { progress.update(done, violations); });
  }
  const double search_time = seconds_since(start);

  const size_t shrinks = matrix.plan_shrinks();
  const auto shrink_start = Clock::now();
  {
    std::atomic<uint64_t> shrunk{0};
    Progress progress("shrinking", shrinks, "counterexamples", false);
    parallel_for(
        shrinks, common.jobs,
        [&](size_t k) {
          matrix.shrink(k);
          ++shrunk;
        },
        nullptr, [&] { progress.update(shrunk, 0); });
  }
  const double shrink_time = seconds_since(shrink_start);

  const search::MatrixOutcome result = matrix.finish();
  for (const auto& mismatch : result.mismatches)
    std::cerr << "check --all: REPLAY MISMATCH for " << mismatch.scenario_path << ": "
              << mismatch.why << "\n";
  std::cout << search::matrix_table(result.matrix);
  char timing[160];
  std::snprintf(
      timing, sizeof timing,
      "\n%zu runs in %.1fs (%.0f runs/s on %d jobs), %zu counterexamples shrunk in %.1fs\n", total,
      search_time, search_time > 0 ? static_cast<double>(total) / search_time : 0.0, common.jobs,
      shrinks, shrink_time);
  std::cout << timing << "matrix: " << result.md_path << ", " << result.json_path << "\n";
  if (!result.mismatches.empty()) return 3;
  return result.matrix.violated() > 0 ? 1 : 0;
}

}  // namespace

int check_command(const std::vector<std::string>& argv) {
  const Args args = check_args(argv);
  if (args.has("--help")) {
    std::cout << kCheckHelp << fault_kinds_help();
    return 0;
  }
  if (!args.positional().empty())
    throw UsageError{"unexpected argument \"" + args.positional()[0] + "\" (see --help)"};
  const CommonFlags common = common_flags(args);
  return args.has("--all") ? check_all(args, common, argv) : check_one(args, common, argv);
}

}  // namespace lockstep::cli
