// The world: true virtual time, the event queue (ordered by time, then by the order
// events were scheduled), the one seeded PRNG and the trace. Nothing in a simulated run
// happens except as an event popped from here, on one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "core/executor.h"
#include "core/prng.h"
#include "core/time.h"
#include "sim/event_queue.h"
#include "sim/work.h"

namespace lockstep::sim {

class Process;

class World {
 public:
  explicit World(uint64_t seed, bool keep_trace = true)
      : seed_(seed), rng_(seed), keep_trace_(keep_trace) {}
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  Time now() const { return now_; }
  Prng& rng() { return rng_; }
  // The seed the world was made with: parts that draw their own stream (so their draws
  // do not shift everyone else's) derive it from this.
  uint64_t seed() const { return seed_; }

  // Schedules fn at true time t (never earlier than now).
  template <class F>
  void at(Time t, F&& fn) {
    at_work(t, nullptr, 0, std::forward<F>(fn));
  }
  template <class F>
  void after(Duration d, F&& fn) {
    at(now_ + d, std::forward<F>(fn));
  }
  // Schedules fn at t as work of `process` in its incarnation `incarnation`: held while
  // the process is paused, dropped if it crashed meanwhile (see Process::admit). fn is
  // made in its slot: an event's work is built once and never moved before it runs.
  template <class F>
  void at_work(Time t, Process* process, uint64_t incarnation, F&& fn) {
    schedule(t, process, incarnation).fn.emplace(std::forward<F>(fn));
  }

  // Runs the next event; false if none is left.
  bool step();
  // Runs events until none is left, `done()` holds, the next event is after `limit`, or
  // the event budget is spent. `done` is asked before every event, so it is taken as it
  // is (a lambda, a std::function, or nullptr for none) rather than through a
  // std::function.
  template <class Done>
  void run(Time limit, Done&& done) {
    while (!queue_.empty() && !budget_spent()) {
      if constexpr (std::is_same_v<std::decay_t<Done>, std::function<bool()>>) {
        if (done && done()) return;
      } else if constexpr (!std::is_null_pointer_v<std::decay_t<Done>>) {
        if (done()) return;
      }
      if (queue_.next_time(now_) > limit) return;
      step();
    }
  }

  uint64_t events_run() const { return events_run_; }
  // The run's hard bound (docs/scenario.md, "Limits"): run() stops once the events run
  // plus the work charged reach the budget. Work is what one event may do in proportion to
  // the input (a listing of a thousand children, a message past a thousand fault windows),
  // so the bound holds in wall time as well as in events.
  void set_event_budget(uint64_t budget) { event_budget_ = budget; }
  void charge(uint64_t work) { work_ += work; }
  bool budget_spent() const { return events_run_ + work_ >= event_budget_; }
  uint64_t budget_left() const { return budget_spent() ? 0 : event_budget_ - events_run_ - work_; }

  // The trace: one JSON object per line. `fields` is the inside of the object after the
  // time, e.g. R"("src":"server","ev":"expire","session":"0x1")"; with N stores a server says
  // "store K".
  bool tracing() const { return keep_trace_; }
  void trace(const std::string& fields);
  std::vector<std::string> take_trace() { return std::move(trace_); }

 private:
  Time now_{0};
  uint64_t next_seq_ = 0;
  uint64_t events_run_ = 0;
  uint64_t event_budget_ = UINT64_MAX;
  uint64_t work_ = 0;
  // Entries are small; the work waits in slots, so ordering the queue never moves it.
  EventQueue queue_;
  struct Slot {
    Work fn;
    Process* process = nullptr;
    uint64_t incarnation = 0;
  };
  // Queues an event at t and hands back its (empty) slot.
  Slot& schedule(Time t, Process* process, uint64_t incarnation);
  // Slots live in chunks that never move, so a slot stays where it is while its work runs
  // and schedules more (std::deque would too, but its 80-byte slots make every lookup a
  // division by six).
  static constexpr uint32_t kChunkBits = 6;
  Slot& slot_at(uint32_t index) {
    return slot_chunks_[index >> kChunkBits][index & ((1u << kChunkBits) - 1)];
  }
  std::vector<std::unique_ptr<Slot[]>> slot_chunks_;
  uint32_t slot_count_ = 0;
  std::vector<uint32_t> free_slots_;
  uint64_t seed_;
  Prng rng_;
  bool keep_trace_;
  std::vector<std::string> trace_;
};

}  // namespace lockstep::sim
