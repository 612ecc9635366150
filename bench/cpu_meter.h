// The CPU a live benchmark's section costs on both ends of the connection: this process
// (every client session: the C client and our loops) and the ZooKeeper server
// (every thread of its JVM). A rate alone cannot tell a slow lock from a saturated
// machine: on two cores the server and the clients share the cores, so the CPU one
// handoff costs, and which side pays it, is what bounds the rate.
//
// The server is found by LOCKSTEP_ZK_PID (scripts/bench sets it); without it only this
// process is measured. Its time is the sum of its threads' schedstat run times
// (nanoseconds; /proc/PID/stat counts 10 ms ticks, too coarse for a 100 ms run).
#pragma once

#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <barrier>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

namespace lockstep::bench {

struct CpuTimes {
  double wall_s = 0;
  double self_user_s = 0;
  double self_sys_s = 0;
  double self_switches = 0;        // context switches of all this process's threads
  std::optional<double> server_s;  // unset: no server PID, or it could not be read
};

// The CPU seconds the process `pid` has run, all its threads together; nullopt if it is
// gone or unreadable.
inline std::optional<double> process_cpu_s(pid_t pid) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::directory_iterator tasks("/proc/" + std::to_string(pid) + "/task", ec);
  if (ec) return std::nullopt;
  double total_ns = 0;
  for (const fs::directory_entry& task : tasks) {
    std::ifstream in(task.path() / "schedstat");
    double run_ns = 0;
    if (in >> run_ns) total_ns += run_ns;  // a thread that just ended has no file: skip it
  }
  return total_ns / 1e9;
}

inline CpuTimes cpu_now(std::optional<pid_t> server) {
  CpuTimes t;
  t.wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  rusage self{};
  getrusage(RUSAGE_SELF, &self);
  t.self_user_s = static_cast<double>(self.ru_utime.tv_sec) + self.ru_utime.tv_usec / 1e6;
  t.self_sys_s = static_cast<double>(self.ru_stime.tv_sec) + self.ru_stime.tv_usec / 1e6;
  t.self_switches = static_cast<double>(self.ru_nvcsw + self.ru_nivcsw);
  if (server) t.server_s = process_cpu_s(*server);
  return t;
}

// Samples the CPU at the start and at the end of a section that several client threads
// share: each barrier's completion (run by the last thread to arrive) takes one sample.
class CpuSection {
 public:
  explicit CpuSection(std::optional<pid_t> server) : server_(server) {}

  // The section of a benchmark whose server is LOCKSTEP_ZK_PID (unset or empty: this
  // process only). A value that names no running process skips the benchmark with that
  // error and gives nullopt.
  static std::optional<CpuSection> from_env(benchmark::State& state) {
    const char* v = std::getenv("LOCKSTEP_ZK_PID");
    if (!v || !*v) return CpuSection(std::nullopt);
    char* end = nullptr;
    const long pid = std::strtol(v, &end, 10);
    if (*end != '\0' || pid <= 0 || !process_cpu_s(static_cast<pid_t>(pid))) {
      state.SkipWithError(
          (std::string("LOCKSTEP_ZK_PID=") + v + ": not a running process").c_str());
      return std::nullopt;
    }
    return CpuSection(static_cast<pid_t>(pid));
  }

  struct Sample {
    CpuSection* section;
    bool at_end;
    void operator()() noexcept {
      (at_end ? section->end_ : section->begin_) = cpu_now(section->server_);
    }
  };
  using Barrier = std::barrier<Sample>;

  Sample at_begin() { return {this, false}; }
  Sample at_end() { return {this, true}; }

  // Counters per `unit` of work (a release, a pair): client_cpu_ms_per_<unit> and its
  // client_sys_ms_per_<unit> part, client_switches_per_<unit> (a thread going to sleep or
  // being preempted: each hop of a message between threads is one),
  // server_cpu_ms_per_<unit>; and the cores each side kept busy on average, client_cores
  // and server_cores.
  void report(benchmark::State& state, double units, const std::string& unit) const {
    const double wall = end_.wall_s - begin_.wall_s;
    if (units <= 0 || wall <= 0) return;
    const double user = end_.self_user_s - begin_.self_user_s;
    const double sys = end_.self_sys_s - begin_.self_sys_s;
    state.counters["client_cpu_ms_per_" + unit] = 1e3 * (user + sys) / units;
    state.counters["client_sys_ms_per_" + unit] = 1e3 * sys / units;
    state.counters["client_switches_per_" + unit] =
        (end_.self_switches - begin_.self_switches) / units;
    state.counters["client_cores"] = (user + sys) / wall;
    if (begin_.server_s && end_.server_s) {
      const double server = *end_.server_s - *begin_.server_s;
      state.counters["server_cpu_ms_per_" + unit] = 1e3 * server / units;
      state.counters["server_cores"] = server / wall;
    }
  }

 private:
  std::optional<pid_t> server_;
  CpuTimes begin_, end_;
};

}  // namespace lockstep::bench
