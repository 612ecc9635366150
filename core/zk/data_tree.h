// The znode tree of one ZooKeeper server, with ZooKeeper 3.8's semantics: zxids, Stat
// bookkeeping, sequential names from the parent's cversion, ephemerals per session, TTL
// and container nodes, multi, and the server's one-shot watch tables.
//
// Synchronous and deterministic: the simulated server (sim/zk/server.h) calls it for each
// request in order and ships the replies and the watch notifications it returns, and the
// live in-process `local:` store (real/local_store.h) calls it under a mutex.
//
// It lives in core/ because both sim/ and real/ use it, and neither may include the
// other; it is the standard library and core/store.h only, no clock, thread or randomness
// (times come in as arguments), which is what core/ asks of its code.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/store.h"
#include "core/zk/listing_order.h"

namespace lockstep {

// A watch notification the server must send to a session.
struct WatchFire {
  int64_t session = 0;
  WatchEventType type = WatchEventType::Created;
  std::string path;
};

// The result of a read; `watch_set` tells whether a watch was registered.
struct ReadResult {
  Error err = Error::Ok;
  std::string data;
  ChildList children;  // sorted by name; children() only
  Stat stat;
  bool watch_set = false;
};

class DataTree {
 public:
  // Starts with "/", "/zookeeper", "/zookeeper/config" and "/zookeeper/quota", as a
  // fresh standalone server has.
  DataTree();

  // The largest TTL ZooKeeper accepts (EphemeralType.TTL.maxValue(), the C client's
  // ZOO_MAX_TTL): 40 bits of milliseconds, about 34 years.
  static constexpr int64_t kMaxTtlMs = 0xFFFFFFFFFF;

  int64_t last_zxid() const { return last_zxid_; }
  // Consumes a zxid for a transaction that changes no node (session create/close).
  int64_t next_zxid() { return ++last_zxid_; }

  // Writes. Each call is one transaction and consumes one zxid, even when it fails, as
  // ZooKeeper logs failed writes as error transactions. `now_ms` is the server clock.
  //
  // Requests the C client refuses before sending anything (an invalid path, a TTL out of
  // range, a TTL create inside a multi) are refused here with the C client's error code
  // and consume no zxid, since the real server never sees them.
  CreateReply create(int64_t session, const std::string& path, const std::string& data,
                     CreateMode mode, int64_t ttl_ms, int64_t now_ms,
                     std::vector<WatchFire>& fired);
  Error remove(const std::string& path, int32_t version, std::vector<WatchFire>& fired);
  SetReply set(const std::string& path, const std::string& data, int32_t version, int64_t now_ms,
               std::vector<WatchFire>& fired);
  // All or nothing; one zxid.
  MultiReply multi(int64_t session, const std::vector<Op>& ops, int64_t now_ms,
                   std::vector<WatchFire>& fired);

  // Reads; with watch=true the session's watch is registered where ZooKeeper would.
  ReadResult get(int64_t session, const std::string& path, bool watch);
  ReadResult exists(int64_t session, const std::string& path, bool watch);
  ReadResult children(int64_t session, const std::string& path, bool watch);

  // The session is gone (expired or closed): its ephemerals are deleted in one
  // transaction (watches fire for other sessions) and its own watches are dropped.
  // Ends a session: its ephemerals go and the watches on them fire. With `tell_owner`, the
  // session's own watches fire too (then go), as when ZooKeeper ends a session whose
  // connection is still open: it sends the notifications before it closes the connection.
  void kill_session(int64_t session, std::vector<WatchFire>& fired, bool tell_owner = false);
  // The session's connection went away: the server forgets its watches (the client
  // re-registers them with set_watches when it reconnects).
  void drop_watches(int64_t session);
  // ZooKeeper's SetWatches on reconnect: fires at once what changed after
  // `relative_zxid`, registers the rest.
  void set_watches(int64_t session, int64_t relative_zxid, const std::vector<std::string>& data,
                   const std::vector<std::string>& exist, const std::vector<std::string>& child,
                   std::vector<WatchFire>& fired);
  // The container manager's pass: deletes expired TTL nodes (mtime + ttl < now, no
  // children) and empty containers that once had children.
  // Returns what it deleted, in order: each path, and whether its TTL ran out (else it was
  // an empty container), so a server can say so in its trace.
  struct Reaped {
    std::string path;
    bool ttl = false;
  };
  std::vector<Reaped> expire_ttl_and_containers(int64_t now_ms, std::vector<WatchFire>& fired);

  // Inspection for checkers and tests.
  bool contains(const std::string& path) const { return nodes_.count(path) != 0; }
  std::vector<std::string> paths_under(const std::string& prefix) const;  // sorted, excl. prefix
  std::vector<std::string> ephemerals_of(int64_t session) const;
  size_t watch_count() const;
  // The ephemeralOwner ZooKeeper stores (0xFF00000000000000 | ttl for TTL nodes,
  // 0x8000000000000000 for containers); clients are shown 0 for both. 0 if no such node.
  int64_t stored_ephemeral_owner(const std::string& path) const;
  // A TTL node's TTL in milliseconds; 0 for any other node, or no node.
  int64_t ttl_ms_of(const std::string& path) const;
  // The session that created the node; 0 if no such node.
  int64_t creator_of(const std::string& path) const;
  // Registrations of one table, for tests: sessions watching `path`.
  std::set<int64_t> data_watchers(const std::string& path) const;
  std::set<int64_t> child_watchers(const std::string& path) const;

 private:
  struct Node {
    std::string data;
    // As ZooKeeper persists it: cversion counts child creations only and
    // ephemeral_owner holds the TTL/container encodings; client_stat() derives what a
    // client sees. num_children and data_length are filled in there too.
    Stat stat;
    int64_t ttl_ms = 0;  // > 0 for TTL nodes
    // The session whose create made it, kept for every mode: what a report names as the
    // owner of a node left behind (ZooKeeper keeps it for ephemerals only).
    int64_t creator = 0;
    bool container = false;
    bool read_only = false;                       // /zookeeper/config: world-readable only
    std::set<std::string, std::less<>> children;  // names
    // `children` as one sorted list that listings share, made by the first listing; a
    // change makes the next one from it, sharing what did not change.
    ChildList listing;
    void add_child(std::string_view name);
    void remove_child(std::string_view name);
  };
  enum class NodeEvent { Created, Deleted, DataChanged };
  // One transaction being applied. Watch triggers wait in `events` until it commits, so
  // an aborted multi fires nothing; `saved` and `ephemeral_log` undo a multi's earlier ops.
  struct Txn {
    int64_t zxid = 0;
    int64_t now_ms = 0;
    bool undoable = false;
    std::vector<std::pair<NodeEvent, std::string>> events;
    std::map<std::string, std::optional<Node>> saved;
    std::vector<std::tuple<int64_t, std::string, bool>> ephemeral_log;  // (session, path, added)
  };

  Error apply_create(Txn& txn, int64_t session, const std::string& path, const std::string& data,
                     CreateMode mode, int64_t ttl_ms, std::string& created, Stat& stat);
  Error apply_remove(Txn& txn, const std::string& path, int32_t version);
  Error apply_set(Txn& txn, const std::string& path, const std::string& data, int32_t version,
                  Stat& stat);
  Error apply_check(const std::string& path, int32_t version) const;
  void erase_node(Txn& txn, const std::string& path);
  void save(Txn& txn, std::string_view path);
  void note_ephemeral(Txn& txn, int64_t session, const std::string& path, bool added);
  void rollback(Txn& txn);
  void commit(Txn& txn, std::vector<WatchFire>& fired);
  // ZooKeeper's server-side watch table: path -> sessions; and each session's paths, so
  // that dropping a session's watches visits its own paths rather than every watched path
  // (a herd's N sessions closing over N watched paths was N^2).
  // Paths are looked up by views (a node's parent, a deleted node's path) without making
  // a string of them.
  struct PathHash {
    using is_transparent = void;
    size_t operator()(std::string_view path) const { return std::hash<std::string_view>{}(path); }
  };
  template <class V>
  using PathMap = std::unordered_map<std::string, V, PathHash, std::equal_to<>>;
  struct WatchTable {
    PathMap<std::set<int64_t>> by_path;  // looked up, never walked in order
    std::map<int64_t, std::set<std::string>> by_session;
    void add(const std::string& path, int64_t session);
    // Removes the path's watchers and hands them back.
    std::set<int64_t> take(std::string_view path);
    void drop(int64_t session);
  };
  std::set<int64_t> trigger(WatchTable& table, std::string_view path, WatchEventType type,
                            std::vector<WatchFire>& fired, const std::set<int64_t>* suppress);
  Stat client_stat(const Node& node) const;

  int64_t last_zxid_ = 0;
  // By full path. Hashed: every request looks nodes up by paths that share a long prefix,
  // where an ordered map compares that prefix at each level; what needs an order sorts.
  PathMap<Node> nodes_;
  std::map<int64_t, std::set<std::string>> ephemerals_;
  // ZooKeeper's two server-side watch tables.
  WatchTable data_watches_;
  WatchTable child_watches_;
};

}  // namespace lockstep
