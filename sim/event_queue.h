// The world's pending events in (time, scheduling order): a four-way heap for later
// times, and a FIFO for work posted for the current instant (most of a run's events:
// resumptions, replies handed on), which comes after everything already due now, in
// posting order, and so needs no sifting. Any correct priority queue pops the same
// sequence, since no two events share (time, sequence); this one does it with half the
// heap's levels and moves a hole rather than swapping.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/time.h"

namespace lockstep::sim {

class EventQueue {
 public:
  struct Event {
    Time t;
    uint64_t seq;
    uint32_t slot;
  };

  bool empty() const { return heap_.empty() && head_ == due_now_.size(); }
  // The next event's time (the queue must not be empty). `now`: the current instant,
  // which every event in the FIFO is at.
  Time next_time(Time now) const { return head_ < due_now_.size() ? now : heap_.front().t; }

  // An event at the current instant goes to the FIFO; any later one to the heap.
  void push_now(Event ev) { due_now_.push_back(ev); }
  void push_later(Event ev) {
    size_t i = heap_.size();
    heap_.push_back(ev);
    while (i > 0) {
      const size_t parent = (i - 1) / kWays;
      if (!later(heap_[parent], ev)) break;
      heap_[i] = heap_[parent];
      i = parent;
    }
    heap_[i] = ev;
  }

  // Removes and returns the first event (the queue must not be empty). What the FIFO
  // holds was scheduled after what the heap holds for the same instant, so the heap goes
  // first only with an earlier (time, sequence).
  Event pop() {
    if (head_ < due_now_.size() && (heap_.empty() || later(heap_.front(), due_now_[head_]))) {
      const Event ev = due_now_[head_++];
      if (head_ == due_now_.size()) {
        due_now_.clear();
        head_ = 0;
      }
      return ev;
    }
    const Event first = heap_.front();
    const Event last = heap_.back();
    heap_.pop_back();
    const size_t n = heap_.size();
    if (n == 0) return first;
    size_t i = 0;
    for (;;) {
      const size_t child = i * kWays + 1;
      if (child >= n) break;
      size_t best = child;
      const size_t end = child + kWays < n ? child + kWays : n;
      for (size_t c = child + 1; c < end; ++c)
        if (later(heap_[best], heap_[c])) best = c;
      if (!later(last, heap_[best])) break;
      heap_[i] = heap_[best];
      i = best;
    }
    heap_[i] = last;
    return first;
  }

 private:
  static constexpr size_t kWays = 4;
  static bool later(const Event& a, const Event& b) {
    return a.t != b.t ? a.t > b.t : a.seq > b.seq;
  }

  std::vector<Event> heap_;
  std::vector<Event> due_now_;
  size_t head_ = 0;
};

}  // namespace lockstep::sim
