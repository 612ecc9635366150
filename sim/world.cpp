#include "sim/world.h"

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
    queue_.push_now({t, next_seq_++, index});
  else
    queue_.push_later({t, next_seq_++, index});
  return slot;
}

bool World::step() {
  if (queue_.empty()) return false;
  const EventQueue::Event ev = queue_.pop();
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

void World::trace(const std::string& fields) {
  if (!keep_trace_) return;
  trace_.push_back("{\"t\":" + std::to_string(now_.count()) + "," + fields + "}");
}

}  // namespace lockstep::sim
