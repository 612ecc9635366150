// curator-678: Apache Curator's InterProcessMutex with the release of CURATOR-678
// (https://issues.apache.org/jira/browse/CURATOR-678, imported as
// https://github.com/apache/curator/issues/1193; the same code as CURATOR-486,
// https://github.com/apache/curator/issues/1006). release() deletes the lock node and, in
// a `finally`, forgets it (threadData.remove) whether the delete worked or not. A delete
// that fails with ConnectionLoss and was never applied leaves the node in place while the
// session lives (the connection comes back, the session with it): it stays first in the
// queue, nobody knows it, and every later acquire (this client's and everyone else's)
// waits behind it until its deadline.
//
// Option bug=true (the default) is that release. bug=false is the fix the report asks for
// ("remove the local data ONLY after znode deletion is a success"), done as Curator's
// guaranteed delete means it: a delete that fails with ConnectionLoss is kept going in the
// background until the node or the session is gone, so the node is never forgotten while
// it can still block. The port's retry policy gives up at the first ConnectionLoss (as
// RetryNTimes(0, ...) does): with the simulator's sessions of seconds, a policy that
// retries for longer than the disconnection would hide what the report saw. The acquire
// side is Curator's InterProcessMutex as `recipe` ports it (GUID-protected ephemeral
// sequential node, predecessor watch, Suspended and Expired reported as lost by the
// application's ConnectionStateListener, czxid token).
#pragma once

#include <memory>

#include "core/lock.h"

namespace lockstep::locks {

std::unique_ptr<Lock> make_curator_678(LockContext ctx);

}  // namespace lockstep::locks
