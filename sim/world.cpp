#include "sim/world.h"

#include <algorithm>

namespace lockstep::sim {

void World::at(Time t, Callback fn) {
  if (t < now_) t = now_;
  queue_.push_back(Event{t, next_seq_++, std::move(fn)});
  std::push_heap(queue_.begin(), queue_.end(), Later{});
}

bool World::step() {
  if (queue_.empty()) return false;
  std::pop_heap(queue_.begin(), queue_.end(), Later{});
  Event ev = std::move(queue_.back());
  queue_.pop_back();
  now_ = ev.t;
  ++events_run_;
  ev.fn();
  return true;
}

void World::run(Time limit, const std::function<bool()>& done) {
  while (!queue_.empty()) {
    if (done && done()) return;
    if (queue_.front().t > limit) return;
    step();
  }
}

void World::trace(const std::string& fields) {
  if (!keep_trace_) return;
  trace_.push_back("{\"t\":" + std::to_string(now_.count()) + "," + fields + "}");
}

std::string json_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

}  // namespace lockstep::sim
