#include "real/fake_clock.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace lockstep::real {

namespace {

constexpr const char* kLibraryDirs[] = {"/usr/lib/x86_64-linux-gnu/faketime",
                                        "/usr/lib/aarch64-linux-gnu/faketime", "/usr/lib/faketime",
                                        "/usr/local/lib/faketime"};

double seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

std::string FakeClocks::library() {
  for (const char* dir : kLibraryDirs) {
    const std::string path = std::string(dir) + "/libfaketimeMT.so.1";
    if (::access(path.c_str(), R_OK) == 0) return path;
  }
  return "";
}

std::string FakeClocks::why_not() {
  if (library().empty())
    return "a clock fault needs libfaketime (libfaketimeMT.so.1; Debian package faketime, "
           "scripts/deps installs it)";
  return "";
}

FakeClocks::FakeClocks() {
  const char* tmp = std::getenv("TMPDIR");
  std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/lockstep-clocks-XXXXXX";
  if (!::mkdtemp(templ.data()))
    throw std::runtime_error("clock faults: cannot make a directory for libfaketime's files: " +
                             std::string(std::strerror(errno)));
  dir_ = templ;
}

FakeClocks::~FakeClocks() {
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string FakeClocks::path(int client) const {
  return dir_ + "/client-" + std::to_string(client);
}

// Written aside and renamed over, so that a clock call never reads half a spec.
std::string FakeClocks::write(int client, const Clock& c) const {
  char spec[96];
  std::snprintf(spec, sizeof spec, "%+.9f x%.9f\n", c.offset_s, c.rate);
  const std::string final_path = path(client);
  const std::string temp = final_path + ".new";
  FILE* f = std::fopen(temp.c_str(), "w");
  if (!f) return "cannot write " + temp + ": " + std::strerror(errno);
  const bool ok = std::fputs(spec, f) >= 0;
  if (std::fclose(f) != 0 || !ok) return "cannot write " + temp;
  if (std::rename(temp.c_str(), final_path.c_str()) != 0)
    return "cannot rename " + temp + ": " + std::strerror(errno);
  return "";
}

std::vector<std::pair<std::string, std::string>> FakeClocks::settings(int client, Time started) {
  if (client >= static_cast<int>(clocks_.size())) clocks_.resize(static_cast<size_t>(client) + 1);
  // A restarted process counts from its own start, on the true clock again.
  Clock& c = clocks_[static_cast<size_t>(client)];
  c = Clock{.start = started};
  if (std::string why = write(client, c); !why.empty()) throw std::runtime_error(why);

  std::string preload = library();
  if (const char* inherited = std::getenv("LD_PRELOAD"); inherited && *inherited)
    preload += std::string(":") + inherited;
  // The monotonic clock is the one the algorithm's timers read: faked, whatever the
  // user's shell says.
  return {{"LD_PRELOAD", preload},
          {"FAKETIME_TIMESTAMP_FILE", path(client)},
          {"FAKETIME_NO_CACHE", "1"},
          {"FAKETIME_DONT_FAKE_MONOTONIC", "0"}};
}

std::string FakeClocks::change(int client, std::optional<double> drift_ppm,
                               std::optional<Duration> jump, Time now) {
  if (client < 0 || client >= static_cast<int>(clocks_.size()))
    return "client " + std::to_string(client) + " was never started";
  Clock& c = clocks_[static_cast<size_t>(client)];
  const double elapsed = seconds(now - c.start);
  if (drift_ppm) {
    const double rate = 1 + *drift_ppm / 1e6;
    if (!(rate > 0)) return "a drift must leave the clock running (above -100%)";
    // The same faked time now at the new rate: start + elapsed x rate + offset unchanged.
    c.offset_s += elapsed * (c.rate - rate);
    c.rate = rate;
  }
  if (jump) c.offset_s += seconds(*jump);
  return write(client, c);
}

}  // namespace lockstep::real
