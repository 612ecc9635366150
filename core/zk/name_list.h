// A node's children, sorted by name, as they were at one moment: never changed once made.
// Kept in chunks that the lists made from it share, so that a list with one name more or
// one less copies one chunk (at most 2 x kChunk names) and the chunk pointers, not every
// name. A herd's listings in flight each hold the snapshot they were answered from, and
// its nodes come and go while they fly: N names per snapshot was N^2 memory at the peak
// of a large herd, N / kChunk pointers per snapshot is not.
#pragma once

#include <cstddef>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

namespace lockstep {

class NameList {
  using Chunk = std::vector<std::string>;
  using Chunks = std::vector<std::shared_ptr<const Chunk>>;

 public:
  // The names in order, as a range-for reads them.
  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = std::string;
    using difference_type = std::ptrdiff_t;
    using pointer = const std::string*;
    using reference = const std::string&;
    const_iterator() = default;
    reference operator*() const { return (*(*chunks_)[chunk_])[at_]; }
    pointer operator->() const { return &**this; }
    const_iterator& operator++() {
      if (++at_ == (*chunks_)[chunk_]->size()) {
        ++chunk_;
        at_ = 0;
      }
      return *this;
    }
    const_iterator operator++(int) {
      const_iterator old = *this;
      ++*this;
      return old;
    }
    friend bool operator==(const const_iterator& a, const const_iterator& b) {
      return a.chunk_ == b.chunk_ && a.at_ == b.at_;
    }

   private:
    friend class NameList;
    const_iterator(const Chunks* chunks, size_t chunk) : chunks_(chunks), chunk_(chunk) {}
    const Chunks* chunks_ = nullptr;
    size_t chunk_ = 0;
    size_t at_ = 0;
  };
  const_iterator begin() const { return {&chunks_, 0}; }
  const_iterator end() const { return {&chunks_, chunks_.size()}; }

  NameList() = default;
  // From names already sorted and distinct.
  template <class It>
  static NameList of_sorted(It first, It last) {
    NameList out;
    Chunk chunk;
    for (; first != last; ++first, ++out.size_) {
      chunk.push_back(*first);
      if (chunk.size() == kChunk) {
        out.chunks_.push_back(std::make_shared<const Chunk>(std::move(chunk)));
        chunk = Chunk();
      }
    }
    if (!chunk.empty()) out.chunks_.push_back(std::make_shared<const Chunk>(std::move(chunk)));
    return out;
  }
  static NameList of_sorted(const std::vector<std::string>& names) {
    return of_sorted(names.begin(), names.end());
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  template <class F>
  void for_each(F&& f) const {
    for (const auto& chunk : chunks_)
      for (const std::string& name : *chunk) f(name);
  }
  std::vector<std::string> to_vector() const;

  // This list with `name` added (it must not be in it) or taken out (it must be in it).
  NameList with(const std::string& name) const;
  NameList without(const std::string& name) const;

  friend bool operator==(const NameList& a, const std::vector<std::string>& b) {
    return a.to_vector() == b;
  }

 private:
  // Names per chunk: a chunk splits in two when it passes twice this.
  static constexpr size_t kChunk = 64;
  // The chunk `name` sorts into: the first whose last name is not below it, or the last.
  size_t chunk_for(const std::string& name) const;

  Chunks chunks_;  // none empty, in name order
  size_t size_ = 0;
};

}  // namespace lockstep
