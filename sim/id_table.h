// Values under ids handed out in increasing order, most of them removed soon after they
// are added (a process's timers): kept in id order in a deque, so finding one is an index
// rather than a tree walk, and adding one rarely allocates. A value that stays keeps the
// slots after it until it goes, so the table is for values that end.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

namespace lockstep::sim {

template <class T>
class IdTable {
 public:
  // Adds a default value under the next id (1, 2, ...) and returns the id.
  uint64_t add() {
    slots_.emplace_back(std::in_place);
    return next_id_++;
  }
  T* find(uint64_t id) {
    if (id < first_id_ || id >= next_id_) return nullptr;
    std::optional<T>& slot = slots_[id - first_id_];
    return slot ? &*slot : nullptr;
  }
  void erase(uint64_t id) {
    if (id < first_id_ || id >= next_id_) return;
    slots_[id - first_id_].reset();
    while (!slots_.empty() && !slots_.front()) {
      slots_.pop_front();
      ++first_id_;
    }
  }
  // Removes every value; ids go on from where they were.
  void clear() {
    slots_.clear();
    first_id_ = next_id_;
  }
  // The ids present, in increasing order.
  std::vector<uint64_t> ids() const {
    std::vector<uint64_t> out;
    for (size_t i = 0; i < slots_.size(); ++i)
      if (slots_[i]) out.push_back(first_id_ + i);
    return out;
  }

 private:
  std::deque<std::optional<T>> slots_;  // slots_[i] holds id first_id_ + i
  uint64_t first_id_ = 1;
  uint64_t next_id_ = 1;
};

}  // namespace lockstep::sim
