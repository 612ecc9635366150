#include "sim/search/counterexample_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "sim/scenario.h"

namespace lockstep::sim::search {

void write_text_file(const std::string& path, const std::string& text) {
  // --out may be a shared directory: a symlink planted at a file's name must not turn
  // this write into one of the link's target (O_NOFOLLOW), and nothing of another user's
  // is truncated through it.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (errno == ELOOP)
      throw std::runtime_error("cannot write \"" + path + "\": it is a symlink (refused)");
    throw std::runtime_error("cannot write \"" + path + "\": " + std::strerror(errno));
  }
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string why = std::strerror(errno);
      ::close(fd);
      throw std::runtime_error("cannot write \"" + path + "\": " + why);
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0)
    throw std::runtime_error("cannot write \"" + path + "\": " + std::strerror(errno));
}

WrittenCounterexample write_counterexample(const Counterexample& cx, const std::string& out_dir,
                                           const std::string& prefix) {
  const std::string base =
      (std::filesystem::path(out_dir) / (prefix + "-" + std::to_string(cx.found_in.seed))).string();
  WrittenCounterexample w;
  w.scenario_path = base + ".json";
  w.trace_path = base + ".trace.jsonl";
  write_text_file(w.scenario_path, scenario_to_json(cx.minimal));
  // Replayed from the file, exactly as `lockstep run FILE` will.
  Scenario loaded;
  try {
    loaded = load_scenario(w.scenario_path);
  } catch (const ScenarioError& e) {
    w.mismatch = "the written file does not load: " + e.message;
    loaded = cx.minimal;  // still write the trace of the scenario that failed
  }
  w.replay = run_scenario(loaded, RunOptions{true});
  std::string trace;
  for (const auto& line : w.replay.trace) trace += line + "\n";
  write_text_file(w.trace_path, trace);
  const Verdict* v = find_verdict(w.replay, cx.checker);
  if (!w.mismatch.empty()) {
    // already says why
  } else if (!(loaded == cx.minimal)) {
    w.mismatch = "the written file reads back as a different scenario";
  } else if (!v) {
    w.mismatch = "the replay did not run the " + cx.checker + " checker";
  } else if (v->ok) {
    w.mismatch = "the replay passed " + cx.checker;
  } else if (v->summary != cx.verdict.summary || v->details != cx.verdict.details) {
    w.mismatch = "the replay's verdict differs: " + v->summary;
  }
  w.replays_same = w.mismatch.empty();
  return w;
}

}  // namespace lockstep::sim::search
