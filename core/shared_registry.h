// Objects shared by every client that runs in one OS process (live) or one simulated
// world: what a ported library keeps in its own process memory lives here, so that the
// clients which would have shared that memory share it. borges' `local:` lock service
// (core/locks/local_lock) keeps its table of locks here. The runtime makes one registry
// per simulated run and one per live process, and hands it to every lock through
// LockContext::shared; nothing in it outlives the run, so runs stay independent.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>

namespace lockstep {

class SharedRegistry {
 public:
  // The object under `key`, made with T() on first use. A key names one type for good:
  // asking for it as another type is a programming error (std::logic_error). Thread-safe,
  // because live clients of one process may run on several event-loop threads; the
  // object itself must guard its own state if it is used from several threads.
  template <class T>
  std::shared_ptr<T> get_or_create(const std::string& key) {
    std::lock_guard<std::mutex> guard(mu_);
    Entry& slot = entries_[key];
    if (!slot.object) {
      slot.object = std::make_shared<T>();
      slot.type = type_tag<T>();
    } else if (slot.type != type_tag<T>()) {
      throw std::logic_error("SharedRegistry: \"" + key + "\" holds another type");
    }
    return std::static_pointer_cast<T>(slot.object);
  }

 private:
  struct Entry {
    const void* type = nullptr;
    std::shared_ptr<void> object;
  };
  // One distinct address per T, without RTTI.
  template <class T>
  static const void* type_tag() {
    static const char tag = 0;
    return &tag;
  }

  std::mutex mu_;
  std::map<std::string, Entry> entries_;
};

}  // namespace lockstep
