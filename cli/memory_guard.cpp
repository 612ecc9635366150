#include "cli/memory_guard.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "cli/args.h"
#include "sim/memory_estimate.h"

namespace lockstep::cli {

namespace {

std::string gigabytes(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f GB", static_cast<double>(bytes) / 1e9);
  return buf;
}

std::optional<uint64_t> parse_bytes(const std::string& text) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) return {};
  try {
    return std::stoull(text);
  } catch (...) {
    return {};
  }
}

}  // namespace

std::optional<uint64_t> available_memory() {
  if (const char* given = std::getenv("LOCKSTEP_MEM_AVAILABLE")) return parse_bytes(given);
  std::ifstream meminfo("/proc/meminfo");
  std::string line;
  while (std::getline(meminfo, line)) {
    std::istringstream in(line);
    std::string key, unit;
    uint64_t kb = 0;
    if (in >> key >> kb >> unit && key == "MemAvailable:" && unit == "kB") return kb * 1024;
  }
  return {};
}

std::optional<std::string> memory_refusal(const sim::Scenario& s, bool keep_trace,
                                          uint64_t available) {
  sim::MemoryEstimate e = sim::estimate_memory(s, keep_trace);
  if (e.bytes <= available) return {};
  return std::to_string(s.clients) + " clients of " + s.algorithm + " need an estimated " +
         gigabytes(e.bytes) + (keep_trace ? " with the trace kept" : "") +
         (e.measured ? "" : " (not measured for this algorithm: the largest figure)") +
         " at the peak, and this machine has " + gigabytes(available) +
         " available: refused before the run (docs/scenario.md, memory)";
}

void refuse_if_too_big(const sim::Scenario& s, bool keep_trace) {
  std::optional<uint64_t> available = available_memory();
  if (!available) return;
  if (auto why = memory_refusal(s, keep_trace, *available)) throw UsageError{*why};
}

}  // namespace lockstep::cli
