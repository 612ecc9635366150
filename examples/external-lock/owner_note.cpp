// owner-note: the lock is one persistent node whose data names its owner; empty data
// means free. To acquire, read the node; if it is free, write your name into it. To
// release, write it empty again. Waiters watch the node and read it again when it changes.
//
// THE HOLE (what `check --algo owner-note` finds): reading "free" and writing your name
// are two requests. Two clients can both read "free", then both write, and both believe
// they hold the lock: the write does not say which version of the node it read
// (version -1 means "any"). The fix is one argument: write with the version that was
// read (option careful=true), and ZooKeeper refuses the second write with BadVersion.
//
// Holes stay even then, and check finds them with faults: the note is not ephemeral, so
// a holder that crashes never releases and the others wait for ever; and a client paused
// past its session timeout never opens a new session, so its acquires fail from then on
// (both: liveness-after-quiet).
#include "owner_note.h"

#include <memory>
#include <string>

namespace {

using namespace lockstep;

class OwnerNoteLock final : public Lock {
 public:
  explicit OwnerNoteLock(LockContext ctx)
      : env_(*ctx.env),
        session_(ctx.sessions.at(0)),
        path_(ctx.path),
        careful_(ctx.options.boolean("careful")),
        // Randomness comes from the process's Env: the same seed, the same names.
        me_(env_.random_hex_id()) {}

  Task<AcquireResult> acquire(Time deadline) override {
    Future<Unit> timeout = env_.timer_at(deadline);
    while (env_.now() < deadline) {
      GetReply note = co_await session_->get(path_, /*watch=*/true);
      if (note.err == Error::NoNode) {
        // First use: create the note (and its parents) empty, then read it again.
        co_await locks::ensure_path(env_, *session_, path_, deadline);
        continue;
      }
      if (note.err != Error::Ok) {  // connection loss and the like: pause, try again
        co_await first_of(env_.sleep_for(std::chrono::milliseconds(50)), timeout);
        continue;
      }
      if (!note.data.empty()) {  // held: wait until the note changes
        co_await first_of(note.watch, timeout);
        continue;
      }
      const int32_t version = careful_ ? note.stat.version : -1;  // -1: the hole
      SetReply wrote = co_await session_->set(path_, me_, version);
      if (wrote.err == Error::Ok) {
        AcquireResult r;
        r.acquired = true;  // no fencing token, no lost signal
        co_return r;
      }
    }
    AcquireResult r;
    r.error = "timeout";
    co_return r;
  }

  Task<ReleaseResult> release() override {
    SetReply wrote = co_await session_->set(path_, "", -1);
    ReleaseResult r;
    if (wrote.err != Error::Ok) {
      r.ok = false;
      r.error = std::string(error_name(wrote.err));
    }
    co_return r;
  }

 private:
  Env& env_;
  std::shared_ptr<Session> session_;
  std::string path_;
  bool careful_;
  std::string me_;
};

}  // namespace

lockstep::AlgorithmInfo owner_note_algorithm() {
  return {
      .name = "owner-note",
      .summary =
          "a persistent node names its owner; read it, write your name if it is "
          "free (examples/external-lock: two readers of \"free\" both write)",
      .options = {{.key = "careful",
                   .type = OptionType::Boolean,
                   .default_value = "false",
                   .help = "write with the version read (closes the read-then-write race)"}},
      .make = [](LockContext ctx) -> std::unique_ptr<Lock> {
        return std::make_unique<OwnerNoteLock>(std::move(ctx));
      },
  };
}
