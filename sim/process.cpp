#include "sim/process.h"

namespace lockstep::sim {

Process::Process(World& world, int index, std::string name, uint64_t seed)
    : world_(world), index_(index), name_(std::move(name)), rng_(seed) {}

Process::~Process() {
  // Frames go first: their awaiters unsubscribe from futures that other objects own.
  roots_.clear();
  timers_.clear();
}

void Process::post(Callback fn) { post_at(world_.now(), std::move(fn)); }

void Process::post_resume(std::shared_ptr<bool> alive, std::coroutine_handle<> h) {
  post_at(world_.now(), Resumption{std::move(alive), h});
}

bool Process::admit(uint64_t incarnation, Work& fn) {
  if (incarnation != incarnation_ || !alive_) return false;
  if (paused_) {
    held_.push_back(std::move(fn));
    return false;
  }
  return true;
}

Future<Unit> Process::timer_at(Time t) {
  const uint64_t id = timers_.add();
  Timer& timer = *timers_.find(id);
  timer.local_deadline = t;
  Future<Unit> f = timer.promise.future();
  aim_timer(id);
  return f;
}

void Process::aim_timer(uint64_t id) {
  Timer* timer = timers_.find(id);
  if (!timer) return;
  uint64_t gen = ++timer->generation;
  uint64_t inc = incarnation_;
  Time when = clock_.true_when(timer->local_deadline, world_.now());
  world_.at(when, [this, id, gen, inc] {
    if (inc != incarnation_) return;
    Timer* t = timers_.find(id);
    if (!t || t->generation != gen) return;
    if (now() < t->local_deadline) {
      aim_timer(id);  // the clock was slowed or stepped back meanwhile
      return;
    }
    if (paused_) {
      overdue_.push_back(id);
      return;
    }
    Promise<Unit> p = t->promise;
    timers_.erase(id);
    // Whoever waits is resumed through post(), so a paused process still does nothing.
    p.set(Unit{});
  });
}

void Process::clock_changed() {
  for (uint64_t id : timers_.ids()) aim_timer(id);
}

void Process::spawn(Task<void> task) {
  roots_.push_back(std::make_unique<RootTask>(std::move(task)));
  RootTask* root = roots_.back().get();
  post([root] { root->start(); });
}

void Process::pause() { paused_ = true; }

void Process::resume() {
  if (!paused_) return;
  paused_ = false;
  // A resumed process finds its overdue timers before the messages that queued up, as
  // an event loop (or the JVM's session tracker after a stall) does.
  auto overdue = std::move(overdue_);
  overdue_.clear();
  for (uint64_t id : overdue) {
    Timer* t = timers_.find(id);
    if (!t) continue;
    Promise<Unit> p = t->promise;
    timers_.erase(id);
    p.set(Unit{});
  }
  auto held = std::move(held_);
  held_.clear();
  for (auto& fn : held) post_at(world_.now(), std::move(fn));
}

void Process::crash() {
  if (!alive_) return;
  alive_ = false;
  ++incarnation_;
  paused_ = false;
  held_.clear();
  overdue_.clear();
  timers_.clear();
  auto hooks = std::move(crash_hooks_);
  crash_hooks_.clear();
  for (auto& h : hooks) h();
  roots_.clear();
}

void Process::restart() {
  alive_ = true;
  ++incarnation_;
}

}  // namespace lockstep::sim
