// The catalogue of algorithms by their CLI names, in the order tables and searches use:
// every fact about an algorithm that the rest of lockstep needs is here, once.
#include <stdexcept>

#include "core/lock.h"
#include "core/locks/aiozk_48.h"
#include "core/locks/curator_604.h"
#include "core/locks/curator_678.h"
#include "core/locks/etcd_session.h"
#include "core/locks/kazoo_170.h"
#include "core/locks/lease_fenced.h"
#include "core/locks/local_lock.h"
#include "core/locks/recipe.h"
#include "core/locks/redis_semaphore_175.h"
#include "core/locks/redlock.h"
#include "core/locks/zk_fast.h"
#include "core/locks/zk_slow.h"
#include "core/locks/zk_ttl.h"

namespace lockstep {

namespace {

constexpr int kMaxStores = 64;

// GCC before 14 warns of every member a designated initialiser leaves to its default
// (GCC bug 96868); leaving them out is the point of designated initialisers here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
// The zoo of real client bugs: each port takes `bug`, the reported behaviour (true) or
// the fixed one (false).
OptionSpec bug_option() {
  return {.key = "bug",
          .type = OptionType::Boolean,
          .default_value = "true",
          .help = "true: the behaviour the report describes; false: as fixed"};
}

std::vector<AlgorithmInfo> make_catalogue() {
  using T = OptionType;
  std::vector<AlgorithmInfo> all;
  all.push_back({
      .name = "zk-slow",
      .summary = "seed 000 SlowDLock: one ephemeral node, every waiter watches it (herd "
                 "effect); no token, no lost signal",
      .make = locks::make_zk_slow,
  });
  all.push_back({
      .name = "zk-fast",
      .summary = "seed 000 FastDLock as documented: ephemeral sequential nodes, watch "
                 "request-(n-1) literally (a waiter can hang); no token, no lost signal",
      .make = locks::make_zk_fast,
  });
  all.push_back({
      .name = "zk-fast-pred",
      .summary = "zk-fast watching the true predecessor from the children list, listing "
                 "again when it has gone; no token, no lost signal",
      .make = locks::make_zk_fast_pred,
  });
  all.push_back({
      .name = "recipe",
      .summary = "the ZooKeeper recipe done right (Curator InterProcessMutex): "
                 "GUID-protected sequential node, predecessor watch, Suspended/Expired "
                 "signalled as lost, czxid fencing token",
      .options =
          {
              {.key = "handoff",
               .type = T::Choice,
               .default_value = "relist",
               .choices = {"relist", "direct"},
               .help = "relist: a waiter whose predecessor went lists the children again "
                       "(Curator); direct: a waiter whose last listing showed only its "
                       "predecessor below it takes the lock on that node's deletion, if a "
                       "request of its own was answered within a quarter of the session "
                       "timeout (else it lists again); one further back also watches the "
                       "node two ahead, and lists again when that goes"},
          },
      .has_fencing_token = true,
      .make =
          [](LockContext ctx) {
            // Entries a user registers may reuse this make with options of their own.
            const bool direct =
                ctx.options.declares("handoff") && ctx.options.text("handoff") == "direct";
            return locks::make_recipe(std::move(ctx),
                                      direct ? locks::Handoff::Direct : locks::Handoff::Relist);
          },
  });
  all.push_back({
      .name = "zk-ttl",
      .summary = "seed 001 kafka-kit: GUID-protected sequential nodes with a TTL deadline "
                 "in the node, waiters purge expired holders by their own clock, owner "
                 "key, 50 ms passes, a never-reset error counter; no token, no lost signal",
      .options =
          {
              {.key = "ttl",
               .type = T::Millis,
               .default_value = "0",
               .min = "0",
               .help = "the library's TTL (an integer is milliseconds); 0 disables TTLs"},
              {.key = "owner",
               .type = T::Text,
               .help = "the owner key written in the node; empty: none"},
          },
      .make = locks::make_zk_ttl,
  });
  all.push_back({
      .name = "etcd-session",
      .summary = "seed 002 borges on the etcd v3.3.5 mutex: a key per session, lowest "
                 "create-revision holds, wait for the key just before; lost = the "
                 "session's end; no token; a waiter's watch outlives its lease",
      .options =
          {
              {.key = "ttl",
               .type = T::Duration,
               .help = "the lease TTL the sessions are opened with, rounded up to whole "
                       "seconds (0: etcd's 60s); absent: the scenario's session timeout"},
              {.key = "timeout",
               .type = T::Duration,
               .help = "the Lock timeout (below 1s: 1s; 0: forever); absent: the caller's "
                       "deadline"},
          },
      .sessionless = true,  // the lease expires; the client reads and watches on
      .make = locks::make_etcd_session,
      .session_timeout = [](const OptionValues& o) -> std::optional<Duration> {
        if (!o.has("ttl")) return std::nullopt;
        return locks::etcd_session_ttl(o);
      },
  });
  all.push_back({
      .name = "local",
      .summary = "seed 002 borges local: an in-process lock per id shared by the clients "
                 "of one process (or simulated world), FIFO waiters, no store traffic",
      .options =
          {
              {.key = "ttl",
               .type = T::Duration,
               .default_value = "0s",
               .help = "accepted and ignored, as the library ignores it"},
              {.key = "timeout",
               .type = T::Duration,
               .help = "the Lock timeout as it is (0: forever); absent: the caller's deadline"},
          },
      .make = locks::make_local,
  });
  all.push_back({
      .name = "redlock",
      .summary = "seed 003 dsync/go-redsync: SET NX PX on N independent stores, quorum, "
                 "validity = expiry - elapsed - drift, tries with random delays; extend, "
                 "valid; no token, no lost signal",
      .options =
          {
              {.key = "expiry",
               .type = T::Duration,
               .default_value = "3s",
               .min = "1ms",
               .help = "a key's expiry (whole milliseconds)"},
              {.key = "tries",
               .type = T::Integer,
               .default_value = "15",
               .min = "1",
               .max = "1000000",
               .help = "attempts before giving up"},
              {.key = "retry_delay_min",
               .type = T::Duration,
               .default_value = "10ms",
               .help = "shortest random delay between tries"},
              {.key = "retry_delay_max",
               .type = T::Duration,
               .default_value = "150ms",
               .help = "longest random delay between tries"},
              {.key = "drift_factor",
               .type = T::Number,
               .default_value = "0.01",
               .min = "0",
               .help = "clock drift allowed for, as a fraction of the expiry"},
              {.key = "timeout_factor",
               .type = T::Number,
               .default_value = "0.1",
               .positive = true,
               .help = "per-store request timeout, as a fraction of the expiry"},
              {.key = "value",
               .type = T::Text,
               .help = "the value SET on each store; empty: random per Lock"},
              {.key = "stores",
               .type = T::Integer,
               .default_value = "1",
               .min = "1",
               .max = std::to_string(kMaxStores),
               .help = "independent stores (N), each a server of its own"},
          },
      .sessionless = true,  // Redis: a client reconnects and goes on
      .make = locks::make_redlock,
      .check_together =
          [](const OptionValues& o) {
            if (o.duration("retry_delay_max") < o.duration("retry_delay_min"))
              throw OptionError{"retry_delay_max", "must not be below retry_delay_min"};
          },
  });
  all.push_back({
      .name = "lease-fenced",
      .summary = "seed 004 scailio dlock: a lease row with an absolute expiry on the "
                 "client's clock, heartbeats, steal after max clock skew, warn signal, "
                 "lost at the local lease end; fencing token counter with fencing=true",
      .options =
          {
              {.key = "lease",
               .type = T::Duration,
               .default_value = "1m",
               .help = "the lease length; 0: the default"},
              {.key = "heartbeat",
               .type = T::Duration,
               .default_value = "15s",
               .help = "how often the lease is refreshed; 0: the default"},
              {.key = "warn_after",
               .type = T::Duration,
               .default_value = "50s",
               .help = "the warn signal, after the last refresh; 0: the default"},
              {.key = "max_clock_skew",
               .type = T::Duration,
               .default_value = "10s",
               .help = "how long after the row's expiry another may steal it; 0: the default"},
              {.key = "call_timeout",
               .type = T::Duration,
               .default_value = "1s",
               .help = "timeout of each store call; 0: the default"},
              {.key = "fencing",
               .type = T::Choice,
               .default_value = "false",
               .choices = {"true", "false", "mixed"},
               .help = "fencing token counter; mixed: even clients fence, odd ones do not"},
              {.key = "owner",
               .type = T::Text,
               .help = "the row's owner; empty: client-N-<random>"},
          },
      .sessionless = true,  // DynamoDB: every call is a request of its own
      .make = locks::make_lease_fenced,
  });
  // The zoo: real bugs of lock clients, ported with their fix (docs/findings.md, Zoo).
  all.push_back({
      .name = "curator-678",
      .summary = "Curator InterProcessMutex, CURATOR-678 "
                 "(https://github.com/apache/curator/issues/1193): release forgets the "
                 "node when its delete fails under connection loss; the node stays and "
                 "every later acquire waits behind it. Fix (bug=false): forget it only "
                 "once deleted (guaranteed delete in the background)",
      .options = {bug_option()},
      .has_fencing_token = true,
      .make = locks::make_curator_678,
  });
  all.push_back({
      .name = "aiozk-48",
      .summary = "aiozk Lock before PR #48 (https://github.com/micro-fan/aiozk/pull/48): "
                 "a suspension while acquiring fails the acquire and leaves its node in "
                 "the queue, untracked, so later acquires wait behind it. Fix (bug=false, "
                 "commit 65d0cc7): wait to be connected again and go on; no token",
      .options = {bug_option()},
      .make = locks::make_aiozk_48,
  });
  all.push_back({
      .name = "kazoo-170",
      .summary = "kazoo Lock before PR #170 (https://github.com/python-zk/kazoo/pull/170): "
                 "a waiter whose session expires loses its watch silently and waits out "
                 "its timeout. Fix (bug=false, commit 0937c79): a connection listener "
                 "wakes the waiter at every state change; no token, no lost signal",
      .options = {bug_option()},
      .sessionless = true,  // KazooClient opens a new session after expiry
      .make = locks::make_kazoo_170,
  });
  all.push_back({
      .name = "redis-semaphore-175",
      .summary = "redis-semaphore Mutex before the fix of issue #175 "
                 "(https://github.com/swarthy/redis-semaphore/issues/175): a refresh that "
                 "finds its expired key gone sets it again and says nothing. Fix "
                 "(bug=false, PR #177): the lock is lost, onLockLost is called; reports its "
                 "refreshes as renewals (the renewal checker); no token",
      .options =
          {
              {.key = "lock_timeout",
               .type = T::Duration,
               .default_value = "10s",
               .min = "1ms",
               .help = "the key's expiry (lockTimeout)"},
              {.key = "refresh_interval",
               .type = T::Duration,
               .help = "how often the lock is refreshed; absent: 0.8 x lock_timeout; 0: never"},
              bug_option(),
          },
      .sessionless = true,  // Redis: a client reconnects and goes on
      .make = locks::make_redis_semaphore_175,
  });
  all.push_back({
      .name = "curator-604",
      .summary = "Curator InterProcessMutex, CURATOR-604 "
                 "(https://github.com/apache/curator/issues/1121): a client that gave its "
                 "session up after a session timeout of SUSPENDED goes on, on a new "
                 "session, with a lock node of the old one, still alive on the server; "
                 "when the server expires it another client gets the lock. Fix "
                 "(bug=false): the node counts only if its ephemeralOwner is the session "
                 "now (CURATOR-498's check), else it is deleted and created again",
      .options = {bug_option()},
      .has_fencing_token = true,
      .sessionless = true,  // the CuratorFramework opens a new handle after a session ends
      .make = locks::make_curator_604,
  });
  return all;
}
#pragma GCC diagnostic pop

std::string known_names() {
  std::string out;
  for (const auto& a : algorithms()) out += (out.empty() ? "" : ", ") + a.name;
  return out;
}

}  // namespace

// Mutable only through register_algorithm().
static std::vector<AlgorithmInfo>& catalogue() {
  static std::vector<AlgorithmInfo> all = make_catalogue();
  return all;
}

const std::vector<AlgorithmInfo>& algorithms() { return catalogue(); }

void register_algorithm(AlgorithmInfo algorithm) {
  if (algorithm.name.empty()) throw std::invalid_argument("register_algorithm: empty name");
  if (!algorithm.make)
    throw std::invalid_argument("register_algorithm: " + algorithm.name + " has no make");
  for (const auto& a : catalogue())
    if (a.name == algorithm.name)
      throw std::invalid_argument("register_algorithm: " + algorithm.name + " is taken");
  catalogue().push_back(std::move(algorithm));
}

UnknownAlgorithm::UnknownAlgorithm(const std::string& name)
    : std::invalid_argument("unknown algorithm \"" + name + "\" (known: " + known_names() + ")"),
      name(name) {}

const AlgorithmInfo& resolve_algorithm(const std::string& name) {
  for (const auto& a : algorithms())
    if (a.name == name) return a;
  throw UnknownAlgorithm(name);
}

const OptionSpec* AlgorithmInfo::option(const std::string& key) const {
  for (const auto& o : options)
    if (o.key == key) return &o;
  return nullptr;
}

OptionValues AlgorithmInfo::validate(const Options& given) const {
  OptionValues values = validate_options(options, given);
  if (check_together) check_together(values);
  return values;
}

int AlgorithmInfo::store_count(const OptionValues& values) const {
  return option("stores") ? static_cast<int>(values.integer("stores")) : stores;
}

Duration AlgorithmInfo::session_timeout_for(const OptionValues& values, Duration asked) const {
  if (!session_timeout) return asked;
  return session_timeout(values).value_or(asked);
}

}  // namespace lockstep
