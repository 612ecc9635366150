// The lock interface every algorithm implements, and the catalogue of algorithms by name:
// each entry is the single source of an algorithm's facts (name, summary, options with
// their types and defaults, store count, token, sessions).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/options.h"
#include "core/shared_registry.h"
#include "core/store.h"
#include "core/task.h"

namespace lockstep {

// How a lock that renews its lease (a refresh, an extend, a heartbeat) tells its holder
// what each renewal came to. A renewal that succeeds says "still held, without a break
// since the grant"; the "renewal" checker holds the lock to that word (docs/check.md).
// The lock calls started() before it sends a renewal and succeeded(id) with the number
// started() gave once the renewal worked; the holder listens (the workload records them
// as renew_start and renewed). Nobody listening: the calls do nothing.
class Renewals {
 public:
  using Listener = std::function<void(bool succeeded, uint64_t id)>;
  uint64_t started() {
    const uint64_t id = ++count_;
    if (listener_) listener_(false, id);
    return id;
  }
  void succeeded(uint64_t id) {
    if (listener_) listener_(true, id);
  }
  void listen(Listener listener) { listener_ = std::move(listener); }

 private:
  uint64_t count_ = 0;
  Listener listener_;
};

// What a successful acquire hands the caller.
struct Lease {
  // Grows with every grant of the lock (czxid, sequence number, stored counter, ...);
  // empty where the algorithm has none.
  std::optional<uint64_t> token;
  // The lock node this grant rests on, where the algorithm has one, so a user can try a
  // fencing token on a port that lacks its own (`--fencing czxid|sequence`): its czxid,
  // and its sequence number for sequential nodes. Empty where there is no such node.
  std::optional<uint64_t> node_czxid;
  std::optional<uint64_t> node_sequence;
  // Set when the algorithm itself concludes the lock is (or may be) lost. Invalid
  // (never set) for algorithms that never say so.
  Future<Unit> lost;
  // Where the lock reports its renewals of this lease; null for locks that report none.
  std::shared_ptr<Renewals> renewals;
};

struct AcquireResult {
  bool acquired = false;
  Lease lease;
  std::string error;  // why not, in the library's own words ("attempt to acquire lock timed out")
};

struct ReleaseResult {
  bool ok = true;
  std::string error;
};

class Lock {
 public:
  virtual ~Lock() = default;
  // Tries until the local clock reaches `deadline`.
  virtual Task<AcquireResult> acquire(Time deadline) = 0;
  virtual Task<ReleaseResult> release() = 0;
};

// Everything an algorithm instance gets: its process, its sessions (one per store; most
// algorithms use one), the lock's path and its options, validated against its catalogue
// entry.
struct LockContext {
  Env* env = nullptr;
  std::vector<std::shared_ptr<Session>> sessions;
  std::string path;
  OptionValues options;
  // Objects shared by every client of this OS process or simulated world (the `local`
  // lock service's table); one registry per run, wired by the runtime. May be null.
  SharedRegistry* shared = nullptr;
};

struct AlgorithmInfo {
  std::string name;
  std::string summary;
  // The options it takes; the only list of them (scenario keys, --option, the lock's reads).
  std::vector<OptionSpec> options;
  // Sessions it opens, one per independent store; an algorithm with a "stores" option
  // opens that many instead (store_count()).
  int stores = 1;
  bool has_fencing_token = false;
  // Its client goes on after a session expired: Redis and DynamoDB have no sessions, and
  // etcd's lease is not its connection (reads and watches outlive the lease). The runtime
  // gives it sessions that open a new ZooKeeper session after one expired
  // (RenewingSession); ephemeral nodes still die with the session that made them.
  bool sessionless = false;
  std::function<std::unique_ptr<Lock>(LockContext)> make;
  // The session timeout its library asks for when the options set one (etcd's lease
  // TTL): the runtime opens its sessions with that instead of the scenario's. May be
  // empty; nullopt keeps the scenario's.
  std::function<std::optional<Duration>(const OptionValues&)> session_timeout;
  // Checks that need several options at once (retry_delay_max >= retry_delay_min);
  // throws OptionError. May be empty.
  std::function<void(const OptionValues&)> check_together;

  const OptionSpec* option(const std::string& key) const;
  // The options as text, checked against the declarations and typed, defaults filled in.
  // Throws OptionError (unknown key, malformed or out-of-bounds value).
  OptionValues validate(const Options& given) const;
  // Sessions the algorithm opens with these options (the one reader of "stores").
  int store_count(const OptionValues& options) const;
  // The timeout a run opens its sessions with: its own (session_timeout) or `asked`.
  Duration session_timeout_for(const OptionValues& options, Duration asked) const;
};

// The catalogue, in a fixed order: the built-in algorithms, then those registered.
const std::vector<AlgorithmInfo>& algorithms();

// Adds an algorithm of the user's (or a test's) to the catalogue, after the built-in
// ones: run, check and live then know it by its name. Call it before anything resolves
// a name (at the start of main): entries already handed out may move. Throws
// std::invalid_argument for an empty or taken name or a missing `make`.
void register_algorithm(AlgorithmInfo algorithm);

// A name that is not in the catalogue.
struct UnknownAlgorithm : std::invalid_argument {
  explicit UnknownAlgorithm(const std::string& name);
  std::string name;
};

// The one lookup by name, for the entry points (scenario file, run, check, live, a live
// client, bench): they resolve once and pass the entry on. Throws UnknownAlgorithm, whose
// what() is 'unknown algorithm "X" (known: a, b, ...)'.
const AlgorithmInfo& resolve_algorithm(const std::string& name);

}  // namespace lockstep
