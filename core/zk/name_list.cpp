#include "core/zk/name_list.h"

#include <algorithm>

namespace lockstep {

std::vector<std::string> NameList::to_vector() const {
  std::vector<std::string> out;
  out.reserve(size_);
  for_each([&](const std::string& name) { out.push_back(name); });
  return out;
}

size_t NameList::chunk_for(const std::string& name) const {
  auto it = std::lower_bound(
      chunks_.begin(), chunks_.end(), name,
      [](const std::shared_ptr<const Chunk>& c, const std::string& n) { return c->back() < n; });
  return it == chunks_.end() ? chunks_.size() - 1 : static_cast<size_t>(it - chunks_.begin());
}

NameList NameList::with(const std::string& name) const {
  NameList out = *this;
  ++out.size_;
  if (out.chunks_.empty()) {
    out.chunks_.push_back(std::make_shared<const Chunk>(Chunk{name}));
    return out;
  }
  const size_t i = chunk_for(name);
  Chunk grown = *chunks_[i];
  grown.insert(std::lower_bound(grown.begin(), grown.end(), name), name);
  if (grown.size() <= 2 * kChunk) {
    out.chunks_[i] = std::make_shared<const Chunk>(std::move(grown));
    return out;
  }
  const auto half = grown.begin() + static_cast<std::ptrdiff_t>(grown.size() / 2);
  auto low = std::make_shared<const Chunk>(grown.begin(), half);
  auto high = std::make_shared<const Chunk>(half, grown.end());
  out.chunks_[i] = std::move(low);
  out.chunks_.insert(out.chunks_.begin() + static_cast<std::ptrdiff_t>(i) + 1, std::move(high));
  return out;
}

NameList NameList::without(const std::string& name) const {
  NameList out = *this;
  if (chunks_.empty()) return out;
  const size_t i = chunk_for(name);
  Chunk shrunk = *chunks_[i];
  auto it = std::lower_bound(shrunk.begin(), shrunk.end(), name);
  if (it == shrunk.end() || *it != name) return out;
  shrunk.erase(it);
  --out.size_;
  if (shrunk.empty())
    out.chunks_.erase(out.chunks_.begin() + static_cast<std::ptrdiff_t>(i));
  else
    out.chunks_[i] = std::make_shared<const Chunk>(std::move(shrunk));
  return out;
}

}  // namespace lockstep
