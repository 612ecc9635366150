// The lock interface every algorithm implements, and the catalogue of algorithms by name.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/options.h"
#include "core/shared_registry.h"
#include "core/store.h"
#include "core/task.h"

namespace lockstep {

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
// algorithms use one), the lock's path and the scenario's algorithm options.
struct LockContext {
  Env* env = nullptr;
  std::vector<std::shared_ptr<Session>> sessions;
  std::string path;
  Options options;
  // Objects shared by every client of this OS process or simulated world (the `local`
  // lock service's table); one registry per run, wired by the runtime. May be null.
  SharedRegistry* shared = nullptr;
};

struct AlgorithmInfo {
  std::string name;
  std::string summary;
  std::set<std::string> option_keys;  // the "options" keys it understands
  int stores = 1;                     // sessions it needs (overridable by its "stores" option)
  bool has_fencing_token = false;
  std::function<std::unique_ptr<Lock>(LockContext)> make;
  // Its store has no sessions of its own (Redis, DynamoDB): the runtime gives it
  // sessions that open a new ZooKeeper session after one expired (RenewingSession).
  bool sessionless = false;
};

// The catalogue, in a fixed order.
const std::vector<AlgorithmInfo>& algorithms();
const AlgorithmInfo* find_algorithm(const std::string& name);

}  // namespace lockstep
