// `lockstep live`: the workload on a real store, in real time, with real faults, judged
// by the same checkers as a simulated run (real/live_runner.h). And `lockstep
// live-client`, the hidden subcommand each client process of a live run is.
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/report.h"
#include "core/lock.h"
#include "real/blackbox/client_backend.h"
#include "real/live_client.h"
#include "real/live_runner.h"
#include "real/local_store.h"
#include "real/zk_ensemble.h"
#include "real/zk_store.h"
#include "sim/faults/live_form.h"
#include "sim/faults/table.h"
#include "sim/faults/trigger.h"
#include "sim/run.h"
#include "sim/scenario.h"

namespace lockstep::cli {

namespace {

const char* kLiveHelp =
    R"(usage: lockstep live --store STORE [--algo A] [--clients N] [--cycles K] [OPTIONS]
       lockstep live SCENARIO.json --store STORE [OPTIONS]

Runs the lock workload for real: N client processes (fork + exec of this binary), each
running the same workload code as the simulator (acquire, hold, release, think; K
cycles) against a live store, in real time. Faults are done for real. Every event is
stamped with CLOCK_MONOTONIC, the clients' histories are merged, and the checkers of
`lockstep run` judge it; the verdict table is the same. The run works under its own
path, /lockstep/live-<pid>-<ns>, and removes it at the end.

With SCENARIO.json, its workload is run (algorithm, options, clients, timeouts, resource,
fencing, duration) with the faults that have a live form (those below; store_crash of
store 0 with its data); the others are listed as skipped. Flags given as well override it.

  --store STORE           zk:HOST:PORT[,HOST:PORT...][/chroot]: a ZooKeeper ensemble;
                          local: an in-process store (ZooKeeper's data tree, real time,
                          no server; the clients are threads). Repeat --store zk:... to
                          give an algorithm with several stores (redlock) one each
  --algo A                the algorithm (lockstep algorithms); default recipe
  --option KEY=VALUE      an algorithm option (repeatable)
  --clients N             contending clients (default 3)
  --cycles K              lock cycles per client (default 20)
  --hold D                time in the critical section (default 5ms)
  --think D               time between cycles (default 1ms)
  --session-timeout D     the session timeout asked for (default 4s; ZooKeeper grants
                          2..20 ticks)
  --acquire-timeout D     each acquire's deadline (default 30s)
  --resource R            fenced | unfenced | none: the counter the critical section
                          increments (default none)
  --resource-store S      same | separate: the resource on the lock's session, or on a
                          session of its own asking for 40s (default same)
  --fencing F             own | czxid | sequence | none: the token resource writes carry
  --fault F               (repeatable) a fault, one of
@FAULTS@                          CLIENT is an index or holder / waiter (resolved from the
                          history at that moment); AT is counted from the start,
                          or from an event, as a scenario's "at": acquired+500ms,
                          acquired#2+1s, released#3 (docs/scenario.md)
                          partition, latency and loss need root (network namespaces,
                          iptables), clock needs libfaketime (docs/live.md)
  --lock-path P           the lock's path under the run's own path (default /locks/a)
  --duration D            give up after D: clients still running are killed (default 120s)
  --client-cmd "CMD ARGS" the clients are this program, any language, as black boxes
                          (split on whitespace, run without a shell; one zk: store): it
                          reads ops and writes events as JSON lines (docs/live.md)
  --client-timeout D      --client-cmd: how long a client may take to say "ready" and to
                          answer an op, on top of an acquire's own timeout (default: 60s
                          for ready, max(10s, 3 x the session timeout) for an answer)
  --client-logs DIR       --client-cmd: where client-N.log gets client N's stderr
                          (default: a new directory under $TMPDIR or /tmp)
  --auth digest:USER:PASSWORD
                          a secured ZooKeeper: every session (lockstep's, the clients',
                          and a --client-cmd's through LOCKSTEP_ZK_AUTH) adds this identity,
                          and every node the run creates gets an ACL that lets only it
                          create, write and delete (anyone may read); zk: stores only
  --trace FILE            write the merged history as JSON lines
  --help                  this text

The ZooKeeper C client's own log is off unless LOCKSTEP_ZK_LOG says otherwise (error,
warn, info, debug). docs/live.md tells the whole story.

Exit status: 0 every checker passed, 1 a checker found a violation, 2 bad input (or the
store could not be set up).
)";

Duration duration_flag(const Args& args, const std::string& flag, Duration def) {
  auto v = args.value(flag);
  if (!v) return def;
  auto d = parse_duration(*v);
  if (!d) throw UsageError{flag + ": \"" + *v + "\" is not a duration with a unit (e.g. 250ms)"};
  if (*d > kMaxInputDuration)
    throw UsageError{flag + ": \"" + *v + "\" is longer than " + kMaxInputDurationText};
  return *d;
}

LiveFault parse_fault(const std::string& text, int clients) {
  try {
    return sim::parse_live_fault(text, clients);
  } catch (const std::invalid_argument& e) {
    throw UsageError{e.what()};
  }
}

// The directory for the clients' stderr logs: the one given (made if missing), or a new
// one under $TMPDIR (or /tmp).
std::string client_log_dir(const std::optional<std::string>& given) {
  if (given) {
    if (::mkdir(given->c_str(), 0755) != 0 && errno != EEXIST)
      throw UsageError{"--client-logs: cannot make \"" + *given + "\": " + std::strerror(errno)};
    struct stat st {};
    if (::lstat(given->c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
      throw UsageError{"--client-logs: \"" + *given + "\" is not a directory"};
    return *given;
  }
  const char* tmp = std::getenv("TMPDIR");
  std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/lockstep-clients-XXXXXX";
  if (!::mkdtemp(templ.data()))
    throw UsageError{"--client-logs: cannot make a directory under " +
                     std::string(tmp && *tmp ? tmp : "/tmp") + ": " + std::strerror(errno)};
  return templ;
}

}  // namespace

int live_command(const std::vector<std::string>& argv) {
  Args args(argv, {"--store",           "--algo",           "--option",         "--clients",
                   "--cycles",          "--hold",           "--think",          "--session-timeout",
                   "--acquire-timeout", "--resource",       "--resource-store", "--fencing",
                   "--fault",           "--lock-path",      "--duration",       "--trace",
                   "--client-cmd",      "--client-timeout", "--client-logs",    "--auth"},
            {"--help"});
  if (args.has("--help")) {
    std::string help = kLiveHelp;
    help.replace(help.find("@FAULTS@"), 8, sim::live_help(26));
    std::cout << help;
    return 0;
  }
  // The C client logs every session it sees expire, and a live run ends sessions on
  // purpose; LOCKSTEP_ZK_LOG=error (or info, debug) brings the log back. The clients
  // inherit it.
  setenv("LOCKSTEP_ZK_LOG", "off", 0);
  if (args.positional().size() > 1)
    throw UsageError{"expected at most one scenario file, got " +
                     std::to_string(args.positional().size())};

  sim::Scenario sc;
  std::vector<std::string> skipped;
  std::vector<LiveFault> faults;
  const bool from_file = !args.positional().empty();
  if (from_file) {
    sc = sim::load_scenario(args.positional()[0]);
    for (const auto& f : sc.faults) {
      if (auto live = sim::live_form(f))
        faults.push_back(*live);
      else
        skipped.push_back("scenario fault " + std::string(sim::fault_name(f.kind)) + " at " +
                          sim::format_at(f) + ": skipped, no live form");
    }
    if (sc.nemesis.enabled) skipped.push_back("scenario nemesis: skipped, no live form");
  }
  if (auto a = args.value("--algo")) {
    if (*a != sc.algorithm) sc.options = Options();
    sc.algorithm = *a;
  }
  for (const auto& kv : args.values("--option")) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      throw UsageError{"--option: \"" + kv + "\" is not KEY=VALUE"};
    sc.options.set(kv.substr(0, eq), kv.substr(eq + 1));
  }
  if (auto n = args.unsigned_value("--clients")) {
    if (*n < 1 || *n > 64) throw UsageError{"--clients: must be 1..64"};
    sc.clients = static_cast<int>(*n);
  }
  if (auto n = args.unsigned_value("--cycles")) {
    if (*n > 1000000) throw UsageError{"--cycles: too many"};
    sc.workload.cycles = static_cast<int>(*n);
  }
  sc.workload.hold = duration_flag(args, "--hold", sc.workload.hold);
  sc.workload.think = duration_flag(args, "--think", sc.workload.think);
  sc.workload.acquire_timeout =
      duration_flag(args, "--acquire-timeout", sc.workload.acquire_timeout);
  sc.session_timeout = duration_flag(args, "--session-timeout", sc.session_timeout);
  sc.duration = duration_flag(args, "--duration", sc.duration);
  // The scenario format's rules (docs/scenario.md), so a live run takes what a simulated
  // one takes: ZooKeeper counts the session timeout in whole milliseconds.
  if (sc.session_timeout <= Duration(0) ||
      sc.session_timeout % std::chrono::milliseconds(1) != Duration(0))
    throw UsageError{"--session-timeout: must be positive whole milliseconds"};
  if (sc.duration <= Duration(0)) throw UsageError{"--duration: must be positive"};
  if (auto r = args.value("--resource")) {
    if (*r == "none") {
      sc.resource.enabled = false;
    } else if (*r == "fenced" || *r == "unfenced") {
      sc.resource.enabled = true;
      sc.resource.fenced = *r == "fenced";
    } else {
      throw UsageError{"--resource: \"" + *r + "\" is not fenced, unfenced or none"};
    }
  }
  if (auto r = args.value("--resource-store")) {
    if (*r != "same" && *r != "separate")
      throw UsageError{"--resource-store: \"" + *r + "\" is not same or separate"};
    sc.resource.separate_store = *r == "separate";
  }
  if (auto f = args.value("--fencing")) {
    sc.fencing = *f == "own" ? "" : *f;
    if (!parse_fencing_source(sc.fencing))
      throw UsageError{"--fencing: \"" + *f + "\" is not own, czxid, sequence or none"};
  }
  if (auto p = args.value("--lock-path")) sc.lock_path = *p;
  if (!valid_path(sc.lock_path) || sc.lock_path == "/")
    throw UsageError{"--lock-path: \"" + sc.lock_path + "\" is not a valid znode path"};
  for (const auto& text : args.values("--fault")) faults.push_back(parse_fault(text, sc.clients));
  for (const auto& f : faults)
    if (sim::live_names_client(f.kind) && f.who == LiveFault::Who::Index && f.client >= sc.clients)
      throw UsageError{"fault " + sim::live_fault_text(f) + ": no client " +
                       std::to_string(f.client)};

  const AlgorithmInfo* algo = nullptr;
  try {
    algo = &resolve_algorithm(sc.algorithm);
  } catch (const UnknownAlgorithm& e) {
    throw UsageError{std::string("--algo: ") + e.what()};
  }
  for (const auto& [key, value] : sc.options.all())
    if (!algo->option(key))
      throw UsageError{"--option " + key + ": unknown option of " + sc.algorithm};
  // A malformed value throws OptionError ("options.KEY: ..."), before any client starts.
  const OptionValues algo_options = algo->validate(sc.options);
  const int stores = algo->store_count(algo_options);

  // The store(s).
  const auto store_flags = args.values("--store");
  if (store_flags.empty()) throw UsageError{"missing --store (zk:HOST:PORT or local:)"};
  bool local = false;
  std::vector<std::string> connect;
  for (const auto& s : store_flags) {
    if (s == "local:" || s == "local") {
      local = true;
    } else if (s.rfind("zk:", 0) == 0) {
      std::string cs = s.substr(3);
      if (auto bad = real::ZkStore::validate(cs); !bad.empty())
        throw UsageError{"--store " + s + ": " + bad};
      connect.push_back(cs);
    } else {
      throw UsageError{"--store: \"" + s + "\" is not zk:HOST:PORT[,...][/chroot] or local:"};
    }
  }
  if (local && !connect.empty()) throw UsageError{"--store: local: cannot be mixed with zk:"};
  real::ZkOptions zk_options;
  if (auto text = args.value("--auth")) {
    if (local) throw UsageError{"--auth: local: has no ACLs; give --store zk:HOST:PORT"};
    std::string why;
    zk_options.auth = real::parse_zk_auth(*text, why);
    if (!zk_options.auth) throw UsageError{"--auth: " + why};
  }
  // store_crash kills the first store's leader: only a server scripts/zk started here.
  for (const auto& f : faults)
    if (f.kind == FaultKind::StoreCrash && !connect.empty())
      if (auto why = real::why_not_killable_ensemble(connect.front())) throw UsageError{*why};
  if (static_cast<int>(connect.size()) > stores)
    throw UsageError{"--store: " + std::to_string(connect.size()) + " stores given, " +
                     sc.algorithm + " opens " + std::to_string(stores)};
  // Independent stores on one server would share one key: every SET after the first fails
  // and no quorum is ever reached. Refuse that rather than report a lock that never grants.
  if (stores > 1 && (local || static_cast<int>(connect.size()) < stores))
    throw UsageError{
        "--store: " + sc.algorithm + " opens " + std::to_string(stores) +
        " independent stores, give one --store zk:HOST:PORT for each (" +
        (local ? std::string("local: is one store") : std::to_string(connect.size()) + " given") +
        "; scripts/zk start --standalone " + std::to_string(stores) + " starts them)"};
  for (const auto& f : faults) {
    if (local && sim::fault_descriptor(f.kind).live.zk_only)
      throw UsageError{"fault " + sim::live_fault_text(f) + ": no live form on local:"};
  }

  real::LiveRunSpec spec;
  spec.clients = sc.clients;
  spec.duration = sc.duration;
  spec.faults = faults;
  spec.notes = skipped;
  real::LiveClientSpec& c = spec.client;
  c.algorithm = sc.algorithm;
  c.options = sc.options.all();
  c.lock_path = sc.lock_path;
  c.cycles = sc.workload.cycles;
  c.hold = sc.workload.hold;
  c.think = sc.workload.think;
  c.acquire_timeout = sc.workload.acquire_timeout;
  c.heed_lost = sc.workload.heed_lost;
  c.session_timeout = algo->session_timeout_for(algo_options, sc.session_timeout);
  c.resource = sc.resource.enabled;
  c.fenced = sc.resource.fenced;
  c.separate_resource = sc.resource.separate_store;
  // As the simulator: a separate resource session asks for the longest timeout a server
  // with the default tick grants (20 ticks of 2s), so it outlives the lock's trouble.
  c.resource_session_timeout = std::chrono::seconds(40);
  c.fencing = sc.fencing;
  // One connect string per store the algorithm opens (checked above).
  for (int i = 0; i < stores && !connect.empty(); ++i) c.connect.push_back(connect[i]);

  for (const auto& s : skipped) std::cerr << "lockstep live: " << s << "\n";

  std::unique_ptr<real::LiveBackend> backend;
  std::string store_text;
  std::string temp_client_logs;  // the client-N.log dir we made, if --client-logs was not given
  if (auto cmd = args.value("--client-cmd")) {
    if (args.has("--algo") || !args.values("--option").empty())
      throw UsageError{"--client-cmd: the client is the lock; --algo and --option do not apply"};
    if (local || connect.size() != 1)
      throw UsageError{"--client-cmd: give exactly one --store zk:HOST:PORT[,...][/chroot]"};
    real::blackbox::ClientCommand command;
    try {
      command.argv = real::blackbox::split_command(*cmd);
    } catch (const std::invalid_argument& e) {
      throw UsageError{std::string("--client-cmd: ") + e.what()};
    }
    command.log_dir = client_log_dir(args.value("--client-logs"));
    if (!args.value("--client-logs")) temp_client_logs = command.log_dir;
    real::blackbox::ClientDeadlines deadlines;
    if (args.value("--client-timeout")) {
      deadlines.ready = deadlines.answer = duration_flag(args, "--client-timeout", Duration(0));
      if (deadlines.ready <= Duration(0)) throw UsageError{"--client-timeout: must be positive"};
    }
    // What the report's heading names instead of an algorithm.
    spec.client.algorithm = "client " + *cmd;
    spec.client.connect = {connect.front()};
    std::cerr << "lockstep live: client stderr goes to " << command.log_dir << "/client-N.log\n";
    backend = std::make_unique<real::blackbox::ClientCommandBackend>(
        std::move(command), connect.front(), deadlines, zk_options);
    store_text = backend->describe();
  } else if (local) {
    backend = std::make_unique<real::LocalBackend>();
    store_text = "local:";
  } else {
    backend = std::make_unique<real::ProcessBackend>(connect, "", zk_options);
    store_text = backend->describe();
  }

  real::LiveRunResult result;
  try {
    result = real::run_live(spec, *backend);
  } catch (const std::runtime_error& e) {
    std::cerr << "lockstep live: " << e.what() << "\n";
    return 2;
  }
  backend.reset();

  print_live_report(std::cout, spec, store_text, result);
  // A log directory of our own making goes when every client behaved; it stays, named,
  // when one did not, since its stderr is where the reason is.
  if (!temp_client_logs.empty()) {
    std::error_code ec;
    if (result.problems.empty())
      std::filesystem::remove_all(temp_client_logs, ec);
    else
      std::cerr << "lockstep live: client logs kept in " << temp_client_logs << "\n";
  }
  if (auto path = args.value("--trace")) {
    std::ofstream out(*path);
    if (!out) throw UsageError{"--trace: cannot write \"" + *path + "\""};
    for (const auto& line : real::history_trace(result.history)) out << line << '\n';
    if (!out) throw UsageError{"--trace: error writing \"" + *path + "\""};
  }
  // Clients that refused the algorithm's options: bad input, whatever the verdicts say.
  for (const auto& p : result.problems)
    if (p.find(": options.") != std::string::npos) return 2;
  return result.ok() ? 0 : 1;
}

int live_client_command(const std::vector<std::string>& argv) {
  real::LiveClientSpec spec;
  try {
    spec = real::decode_client_spec(argv);
  } catch (const std::invalid_argument& e) {
    throw UsageError{e.what()};
  }
  // fd 3 is the pipe to the coordinator (see ProcessBackend::start).
  return real::live_client_process(spec, 3);
}

}  // namespace lockstep::cli
