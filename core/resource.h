// The fenced resource: the storage the lock protects, written once against the Session
// interface so a simulated and a live run touch it the same way.
//
// It is one persistent znode (by default `<lock_path>-resource`) whose data is the text
// "max_token value": the highest fencing token the resource has seen and a counter. The
// workload increments the counter read-modify-write inside each critical section, so a
// broken lock shows up as a lost increment, and a fenced resource shows the damage that
// fencing prevents.
//
// Fenced mode (Kleppmann's fencing, made atomic by znode versions):
//   - a read carrying a token registers it: if it is above max_token, max_token is raised
//     with a versioned set. Registering at the read, not only at the write, is what keeps
//     the read-modify-write whole: once a newer holder has read, an older holder's
//     pending write is refused, so it cannot slip in between the newer holder's read and
//     write (fencing the write alone would let that increment be lost);
//   - a write carrying a token re-reads the node, refuses the write if token < max_token,
//     and otherwise sets it with the version it just read; on BadVersion (someone wrote
//     meanwhile) it re-reads and compares again, so the check and the write are atomic;
//   - a write without a token (fencing "none", or an algorithm without one) cannot be
//     fenced: it is always accepted, though still applied atomically.
// Unfenced mode: a plain get, then a set with version -1: concurrent writers overwrite
// each other, which is exactly the lost update the checkers must be able to see.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/env.h"
#include "core/history.h"
#include "core/store.h"
#include "core/task.h"

namespace lockstep {

// The node's content, "max_token value".
struct ResourceState {
  uint64_t max_token = 0;
  int64_t value = 0;
};
std::string format_resource(const ResourceState& s);
// Parses "max_token value"; nullopt if the text is not that.
std::optional<ResourceState> parse_resource(std::string_view data);

// Where the resource of a lock lives: beside the lock node, never under it, so that
// checks for lock nodes left behind do not see it and a lock directory can still go.
std::string resource_path(std::string_view lock_path);

struct ResourceRead {
  Error err = Error::Ok;  // Ok, or why no value could be read
  int64_t value = 0;
  int32_t version = 0;     // the node's version after the read (and any registration)
  uint64_t max_token = 0;  // as stored after the read
  // Fenced reads only: the token was below max_token, so a newer holder has been here;
  // the value is returned anyway and the write that follows will be refused.
  bool stale = false;
};

struct ResourceWrite {
  Error err = Error::Ok;  // the store error that stopped the write, Ok otherwise
  // Unknown: the store may or may not have applied it (ConnectionLoss, OperationTimeout
  // on the set), counted neither as accepted nor as refused by the checkers.
  WriteOutcome outcome = WriteOutcome::Failed;
  int64_t value = 0;       // the value written
  uint64_t max_token = 0;  // the stored max_token that refused it, or that it left behind
  int64_t mzxid = 0;       // the accepted write's zxid: its position in the store's order
  std::string reason;      // why it was refused, failed or of unknown outcome

  bool accepted() const { return outcome == WriteOutcome::Accepted; }
  // The history's line for it (write_detail).
  std::string detail() const {
    return write_detail(outcome, accepted() ? std::optional<int64_t>(mzxid) : std::nullopt, reason);
  }
};

class FencedResource {
 public:
  FencedResource(Env& env, std::shared_ptr<Session> session, std::string path, bool fenced);

  // Reads the counter. `token` is the reader's fencing token (fenced mode registers it).
  // Creates the node (and its persistent parents) with "0 0" when it does not exist.
  Task<ResourceRead> read(std::optional<uint64_t> token);
  // Writes `value`; fenced mode refuses it if `token` is below the stored max_token.
  Task<ResourceWrite> write(int64_t value, std::optional<uint64_t> token);

  bool fenced() const { return fenced_; }
  const std::string& path() const { return path_; }

 private:
  // Creates the node if missing; Ok or NodeExists count as done.
  Task<Error> ensure();
  // get with creation on NoNode; the reply's error is the caller's to judge.
  Task<GetReply> get_or_create();

  Env& env_;
  std::shared_ptr<Session> session_;
  std::string path_;
  bool fenced_;
};

}  // namespace lockstep
