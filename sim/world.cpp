#include "sim/world.h"

#include <algorithm>

#include "sim/process.h"

namespace lockstep::sim {

uint32_t World::take_slot(Callback fn, Process* process, uint64_t incarnation) {
  uint32_t slot;
  if (free_slots_.empty()) {
    slot = static_cast<uint32_t>(slots_.size());
    slots_.push_back(Slot{std::move(fn), process, incarnation});
  } else {
    slot = free_slots_.back();
    free_slots_.pop_back();
    slots_[slot] = Slot{std::move(fn), process, incarnation};
  }
  return slot;
}

void World::at(Time t, Callback fn) { at_work(t, nullptr, 0, std::move(fn)); }

void World::at_work(Time t, Process* process, uint64_t incarnation, Callback fn) {
  if (t < now_) t = now_;
  uint32_t slot = take_slot(std::move(fn), process, incarnation);
  queue_.push_back(Event{t, next_seq_++, slot});
  std::push_heap(queue_.begin(), queue_.end(), Later{});
}

bool World::step() {
  if (queue_.empty()) return false;
  std::pop_heap(queue_.begin(), queue_.end(), Later{});
  Event ev = queue_.back();
  queue_.pop_back();
  now_ = ev.t;
  ++events_run_;
  Slot& slot = slots_[ev.slot];
  Callback fn = std::move(slot.fn);
  Process* process = slot.process;
  uint64_t incarnation = slot.incarnation;
  slot.fn = nullptr;
  free_slots_.push_back(ev.slot);
  if (!process) {
    fn();
  } else if (process->admit(incarnation, fn)) {
    ExecutorScope scope(process);
    fn();
  }
  return true;
}

void World::run(Time limit, const std::function<bool()>& done) {
  while (!queue_.empty() && !budget_spent()) {
    if (done && done()) return;
    if (queue_.front().t > limit) return;
    step();
  }
}

void World::trace(const std::string& fields) {
  if (!keep_trace_) return;
  trace_.push_back("{\"t\":" + std::to_string(now_.count()) + "," + fields + "}");
}

}  // namespace lockstep::sim
