// A simulated process: an Env and an Executor whose work runs as world events. Pausing
// holds its work (messages queue, timers wait, nothing runs); crashing destroys its
// coroutines and drops everything pending; its clock is its own.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/prng.h"
#include "core/task.h"
#include "sim/clock.h"
#include "sim/id_table.h"
#include "sim/world.h"

namespace lockstep::sim {

class Process final : public Env, public Executor {
 public:
  // index: the client index, or -1 for the server.
  Process(World& world, int index, std::string name, uint64_t seed);
  ~Process() override;

  // Env
  Time now() const override { return clock_.local_at(world_.now()); }
  Future<Unit> timer_at(Time t) override;
  uint64_t random64() override { return rng_.next(); }
  Executor& executor() override { return *this; }
  int client_index() const override { return index_; }
  void spawn(Task<void> task) override;

  // Executor: work runs as a world event, held while paused, dropped once crashed.
  void post(Callback fn) override;
  void post_resume(std::shared_ptr<bool> alive, std::coroutine_handle<> h) override;
  // The same at a later true time (message deliveries).
  template <class F>
  void post_at(Time t, F&& fn) {
    world_.at_work(t, this, incarnation_, std::forward<F>(fn));
  }
  // For the world: whether work of `incarnation` runs now; paused work is kept in `fn`'s
  // place for the resume.
  bool admit(uint64_t incarnation, Work& fn);

  World& world() { return world_; }
  const std::string& name() const { return name_; }
  bool paused() const { return paused_; }
  bool alive() const { return alive_; }
  uint64_t incarnation() const { return incarnation_; }

  void pause();
  void resume();
  // Destroys every coroutine and pending timer; runs the crash hooks (the client
  // library drops its connections, as the OS would close the sockets).
  void crash();
  // Back from a crash: a fresh incarnation that runs what is spawned next.
  void restart();
  void on_crash(std::function<void()> hook) { crash_hooks_.push_back(std::move(hook)); }

  LocalClock& clock() { return clock_; }
  // After changing the clock: timers are re-aimed at their local deadlines.
  void clock_changed();

 private:
  struct Timer {
    Time local_deadline;
    Promise<Unit> promise;
    uint64_t generation = 0;
  };
  void aim_timer(uint64_t id);

  World& world_;
  int index_;
  std::string name_;
  Prng rng_;
  LocalClock clock_;
  bool paused_ = false;
  bool alive_ = true;
  uint64_t incarnation_ = 0;
  std::vector<Work> held_;
  std::vector<uint64_t> overdue_;  // timers that came due while paused
  IdTable<Timer> timers_;
  std::vector<std::unique_ptr<RootTask>> roots_;
  std::vector<std::function<void()>> crash_hooks_;
};

}  // namespace lockstep::sim
