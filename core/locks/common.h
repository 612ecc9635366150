// Helpers the ZooKeeper-shaped lock ports share: creating the persistent parents of a
// lock path, ordering sequential children, backing off after a failed store call, and
// deleting a node that must go even across a lost connection.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/env.h"
#include "core/store.h"
#include "core/task.h"
#include "core/time.h"

namespace lockstep::locks {

// Creates `path` and every missing ancestor as persistent nodes (NodeExists counts as
// done). Retries ConnectionLoss after a pause until the local clock reaches `deadline`;
// returns Ok or the error that stopped it.
Task<Error> ensure_path(Env& env, Session& session, std::string path, Time deadline);

// A sequential child: its name (a view into the listing it came from, which must outlive
// it: a herd's waiters each sort a listing of N names, and copying them doubled the work)
// and the number after its last '-'.
struct SequentialNode {
  std::string_view name;
  int64_t sequence = 0;
};

// The children that carry a sequence number (and contain `must_contain`, if given), in
// sequence order. Names tie-break equal numbers so the order never depends on the reply's.
std::vector<SequentialNode> sorted_by_sequence(const std::vector<std::string>& children,
                                               std::string_view must_contain = {});
// The names are views: a temporary listing would leave them dangling.
std::vector<SequentialNode> sorted_by_sequence(std::vector<std::string>&& children,
                                               std::string_view must_contain = {}) = delete;

// What a waiter needs from a listing, found in one pass over it: the node
// sorted_by_sequence(children, must_contain) would put first, the one it would put just
// before `place` (in its order: sequence number, then name), and whether a node named
// place.name is among them. A herd's N waiters each read listings of N names; sorting each
// was N^2 log N in all, one pass is N^2.
struct QueueLook {
  std::optional<SequentialNode> first;
  std::optional<SequentialNode> ahead;
  bool has_place = false;
};
QueueLook look_up_queue(const std::vector<std::string>& children, std::string_view must_contain,
                        SequentialNode place);
QueueLook look_up_queue(std::vector<std::string>&& children, std::string_view must_contain,
                        SequentialNode place) = delete;

// Frees a container's memory now. A waiter's coroutine frame keeps its locals for as long
// as it waits; a listing of N names kept by each of N waiters is N^2 memory in a herd.
template <class Container>
void forget(Container& c) {
  Container().swap(c);
}

// ZooKeeper's 10-digit, zero-padded sequence suffix.
std::string sequence_suffix(int64_t n);

// Errors after which no call on this session can succeed: the session is gone.
bool session_gone(Error e);

// The pause after a failed call before the ports try again. The ported libraries loop on
// errors; without a pause a loop on an instantly failing call (a closed session) would
// spin without virtual time ever moving.
inline constexpr Duration kRetryPause = std::chrono::milliseconds(50);

// Deletes `path` (any version). ConnectionLoss is retried up to `attempts` times, a pause
// apart, because the delete may not have been applied; NoNode means it is gone already.
// Returns Ok, NoNode, or the error that stopped it.
Task<Error> remove_retrying(Env& env, Session& session, std::string path, int attempts);

// "KeeperErrorCode = ConnectionLoss for /locks/a": the words ZooKeeper's Java client (and
// so Curator) puts in its exceptions.
std::string keeper_error(Error e, std::string_view path);

}  // namespace lockstep::locks
