// Work: what a world event runs. A move-only callable that keeps small callables (a
// message delivery's connection and message, a coroutine's resumption) in place, where
// std::function's 16 bytes send them to the heap: every event of a run was one
// allocation and one free more than it needed.
#pragma once

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace lockstep::sim {

class Work {
 public:
  Work() = default;
  Work(std::nullptr_t) {}  // NOLINT: as std::function, so `fn = nullptr` reads the same
  template <class F>
  requires(!std::is_same_v<std::decay_t<F>, Work> && std::is_invocable_v<std::decay_t<F>&>)
      Work(F&& f) {  // NOLINT: implicit, as std::function's
    construct(std::forward<F>(f));
  }
  Work(Work&& o) noexcept : ops_(o.ops_) {
    if (ops_) ops_->move(buf_, o.buf_);
    o.ops_ = nullptr;
  }
  Work& operator=(Work&& o) noexcept {
    if (this != &o) {
      reset();
      ops_ = o.ops_;
      if (ops_) ops_->move(buf_, o.buf_);
      o.ops_ = nullptr;
    }
    return *this;
  }
  Work& operator=(std::nullptr_t) {
    reset();
    return *this;
  }
  Work(const Work&) = delete;
  Work& operator=(const Work&) = delete;
  ~Work() { reset(); }

  // Makes f the work, constructed in place rather than moved in (a Work is moved in).
  template <class F>
  void emplace(F&& f) {
    if constexpr (std::is_same_v<std::decay_t<F>, Work>) {
      *this = std::move(f);
    } else {
      reset();
      construct(std::forward<F>(f));
    }
  }

  explicit operator bool() const { return ops_ != nullptr; }
  void operator()() { ops_->call(buf_); }

 private:
  static constexpr size_t kInline = 48;
  struct Ops {
    void (*call)(void* self);
    void (*move)(void* dst, void* src);  // constructs dst from src and destroys src
    void (*destroy)(void* self);
  };
  template <class Fn>
  static constexpr Ops kInlineOps{[](void* self) { (*static_cast<Fn*>(self))(); },
                                  [](void* dst, void* src) {
                                    ::new (dst) Fn(std::move(*static_cast<Fn*>(src)));
                                    static_cast<Fn*>(src)->~Fn();
                                  },
                                  [](void* self) { static_cast<Fn*>(self)->~Fn(); }};
  template <class Fn>
  static constexpr Ops kHeapOps{
      [](void* self) { (**static_cast<Fn**>(self))(); },
      [](void* dst, void* src) { ::new (dst) Fn*(*static_cast<Fn**>(src)); },
      [](void* self) { delete *static_cast<Fn**>(self); }};

  template <class F>
  void construct(F&& f) {
    using Fn = std::decay_t<F>;
    if constexpr (sizeof(Fn) <= kInline && alignof(Fn) <= alignof(std::max_align_t) &&
                  std::is_nothrow_move_constructible_v<Fn>) {
      ::new (static_cast<void*>(buf_)) Fn(std::forward<F>(f));
      ops_ = &kInlineOps<Fn>;
    } else {
      ::new (static_cast<void*>(buf_)) Fn*(new Fn(std::forward<F>(f)));
      ops_ = &kHeapOps<Fn>;
    }
  }
  void reset() {
    if (ops_) ops_->destroy(buf_);
    ops_ = nullptr;
  }

  alignas(std::max_align_t) unsigned char buf_[kInline];
  const Ops* ops_ = nullptr;
};

}  // namespace lockstep::sim
