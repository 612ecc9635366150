#include "sim/world.h"

#include <algorithm>

#include "sim/process.h"

namespace lockstep::sim {

World::Slot& World::schedule(Time t, Process* process, uint64_t incarnation) {
  if (t < now_) t = now_;
  uint32_t index;
  if (free_slots_.empty()) {
    if ((slot_count_ & ((1u << kChunkBits) - 1)) == 0)
      slot_chunks_.push_back(std::make_unique<Slot[]>(1u << kChunkBits));
    index = slot_count_++;
  } else {
    index = free_slots_.back();
    free_slots_.pop_back();
  }
  Slot& slot = slot_at(index);
  slot.process = process;
  slot.incarnation = incarnation;
  if (t == now_)
    due_now_.push_back(Event{t, next_seq_++, index});
  else {
    queue_.push_back(Event{t, next_seq_++, index});
    std::push_heap(queue_.begin(), queue_.end(), Later{});
  }
  return slot;
}

World::Event World::pop_next() {
  // Everything in due_now_ is at now_ and was scheduled after what the heap holds for
  // now_, so the heap goes first only with an earlier (time, sequence).
  if (due_now_head_ < due_now_.size() &&
      (queue_.empty() || Later{}(queue_.front(), due_now_[due_now_head_]))) {
    Event ev = due_now_[due_now_head_++];
    if (due_now_head_ == due_now_.size()) {
      due_now_.clear();
      due_now_head_ = 0;
    }
    return ev;
  }
  std::pop_heap(queue_.begin(), queue_.end(), Later{});
  Event ev = queue_.back();
  queue_.pop_back();
  return ev;
}

bool World::step() {
  if (empty()) return false;
  Event ev = pop_next();
  now_ = ev.t;
  ++events_run_;
  // The work runs where it is, and its slot is freed only after: what it schedules
  // takes other slots, and chunks do not move.
  Slot& slot = slot_at(ev.slot);
  if (slot.fn) {
    if (!slot.process) {
      slot.fn();
    } else if (slot.process->admit(slot.incarnation, slot.fn)) {
      ExecutorScope scope(slot.process);
      slot.fn();
    }
  }
  slot.fn = nullptr;
  free_slots_.push_back(ev.slot);
  return true;
}

void World::run(Time limit, const std::function<bool()>& done) {
  while (!empty() && !budget_spent()) {
    if (done && done()) return;
    // What is due now is never later than the heap's first.
    const Time next = due_now_head_ < due_now_.size() ? now_ : queue_.front().t;
    if (next > limit) return;
    step();
  }
}

void World::trace(const std::string& fields) {
  if (!keep_trace_) return;
  trace_.push_back("{\"t\":" + std::to_string(now_.count()) + "," + fields + "}");
}

}  // namespace lockstep::sim
