// A minimal counterexample as `lockstep check` leaves it on disk: the scenario file, the
// trace of a run of that file, and the proof that the file replays to the same verdict.
// `check` (one algorithm) and `check --all` (the matrix) both write theirs here, so the
// files are named and checked the same way.
#pragma once

#include <string>

#include "sim/run.h"
#include "sim/search/search.h"

namespace lockstep::sim::search {

struct WrittenCounterexample {
  std::string scenario_path;  // DIR/PREFIX-SEED.json
  std::string trace_path;     // DIR/PREFIX-SEED.trace.jsonl
  RunResult replay;           // the run of the file as `lockstep run` would do it
  bool replays_same = false;  // the file fails the same checker with the same verdict
  std::string mismatch;       // why not
};

// Writes `cx.minimal` to `out_dir`/`prefix`-SEED.json (SEED: the seed of the case it was
// found in) and, from a run of the written file, its trace; then checks that this replay
// fails the same checker with the same verdict. A file that does not load or does not
// fail the same way is reported in `mismatch`, not hidden. Throws std::runtime_error
// when a file cannot be written.
WrittenCounterexample write_counterexample(const Counterexample& cx, const std::string& out_dir,
                                           const std::string& prefix);

// Writes `text` to `path`, replacing it; throws std::runtime_error when it cannot.
void write_text_file(const std::string& path, const std::string& text);

}  // namespace lockstep::sim::search
