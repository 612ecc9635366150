#include "core/zk/data_tree.h"

#include <algorithm>
#include <cstdio>

namespace lockstep {

namespace {

constexpr int64_t kContainerOwner = INT64_MIN;  // EphemeralType.CONTAINER_EPHEMERAL_OWNER
constexpr uint64_t kTtlOwnerBits = 0xFF00000000000000ULL;

// Java int arithmetic: ZooKeeper's counters wrap rather than trap.
int32_t wrap_add(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
}

// PrepRequestProcessor.checkAndIncVersion: the next version skips -1, which a client could
// not name as an expected version (ZOOKEEPER-4743).
int32_t next_version(int32_t v) {
  int32_t n = wrap_add(v, 1);
  return n == -1 ? 0 : n;
}

// Decodes one UTF-8 code point at `i`, as Java's decoder would; malformed input becomes
// U+FFFD.
uint32_t decode_utf8(const std::string& s, size_t& i) {
  unsigned char b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  size_t extra = b0 >= 0xC2 && b0 <= 0xDF   ? 1
                 : b0 >= 0xE0 && b0 <= 0xEF ? 2
                 : b0 >= 0xF0 && b0 <= 0xF4 ? 3
                                            : 0;
  if (extra == 0 || i + extra >= s.size()) {
    ++i;
    return 0xFFFD;
  }
  uint32_t cp = b0 & (0x3F >> extra);
  for (size_t k = 1; k <= extra; ++k) {
    unsigned char b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xC0) != 0x80) {
      i += k;
      return 0xFFFD;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  i += extra + 1;
  static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
  if (cp < kMin[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0xFFFD;
  return cp;
}

// The server's PathUtils.validatePath, which create, setData and check run. Besides the
// client's rules it refuses more characters; a code point above U+FFFF is a surrogate pair
// in Java, and surrogates are refused.
bool server_path_ok(const std::string& path) {
  if (!valid_path(path)) return false;
  // Printable ASCII passes every rule below; decoding is for the rest. A simulated run
  // checks each create's path, so the common case goes first.
  bool ascii = true;
  for (char c : path)
    ascii &=
        static_cast<unsigned char>(c) >= 0x20 && c != 0x7F && static_cast<unsigned char>(c) < 0x80;
  if (ascii) return true;
  for (size_t i = 1; i < path.size();) {
    uint32_t c = decode_utf8(path, i);
    if ((c > 0 && c <= 0x1F) || (c >= 0x7F && c <= 0x9F) || (c >= 0xD800 && c <= 0xF8FF) ||
        c >= 0xFFF0)
      return false;
  }
  return true;
}

// ZooKeeper's isSpecialPath: these cannot be deleted.
bool special_path(const std::string& path) {
  return path == "/" || path == "/zookeeper" || path == "/zookeeper/quota" ||
         path == "/zookeeper/config";
}

// Java's String.format("%010d", n), which names sequential nodes: ten digits, zero-padded,
// written by hand (snprintf was a tenth of a create's cost).
std::string sequential_suffix(int32_t n) {
  if (n < 0) {  // a cversion that wrapped: the sign takes one of the ten places
    char buf[16];
    std::snprintf(buf, sizeof buf, "%010d", n);
    return buf;
  }
  std::string out(10, '0');
  for (size_t i = 10; n > 0 && i > 0; n /= 10) out[--i] = static_cast<char>('0' + n % 10);
  return out;
}

bool normal_ephemeral(int64_t owner) {
  return owner != 0 && owner != kContainerOwner &&
         (static_cast<uint64_t>(owner) & kTtlOwnerBits) != kTtlOwnerBits;
}

}  // namespace

void DataTree::Node::add_child(std::string_view name) {
  auto [it, added] = children.emplace(name);
  if (!added) return;
  if (listing) listing = std::make_shared<const NameList>(listing->with(*it));
}

void DataTree::Node::remove_child(std::string_view name) {
  auto it = children.find(name);
  if (it == children.end()) return;
  if (listing) listing = std::make_shared<const NameList>(listing->without(*it));
  children.erase(it);
}

DataTree::DataTree() {
  Node root;
  root.children = {"zookeeper"};
  nodes_["/"] = root;
  Node zk;
  zk.children = {"config", "quota"};
  nodes_["/zookeeper"] = zk;
  Node config;
  config.read_only = true;
  // DataTree.addConfigNode sets its ACL with version -1, which lands in aversion.
  config.stat.aversion = -1;
  nodes_["/zookeeper/config"] = config;
  nodes_["/zookeeper/quota"] = Node{};
}

Stat DataTree::client_stat(const Node& node) const {
  Stat s = node.stat;
  s.num_children = static_cast<int32_t>(node.children.size());
  // DataNode.copyStat: the stored count is of creations; every deletion is a change too.
  s.cversion = wrap_add(wrap_add(node.stat.cversion, node.stat.cversion), -s.num_children);
  s.data_length = static_cast<int32_t>(node.data.size());
  if (!normal_ephemeral(node.stat.ephemeral_owner)) s.ephemeral_owner = 0;
  return s;
}

void DataTree::save(Txn& txn, std::string_view path) {
  if (!txn.undoable) return;
  std::string key(path);
  if (txn.saved.count(key)) return;
  auto it = nodes_.find(path);
  txn.saved[key] = it == nodes_.end() ? std::nullopt : std::optional<Node>(it->second);
}

void DataTree::note_ephemeral(Txn& txn, int64_t session, const std::string& path, bool added) {
  if (added) {
    ephemerals_[session].insert(path);
  } else {
    auto it = ephemerals_.find(session);
    if (it != ephemerals_.end()) {
      it->second.erase(path);
      if (it->second.empty()) ephemerals_.erase(it);
    }
  }
  if (txn.undoable) txn.ephemeral_log.emplace_back(session, path, added);
}

void DataTree::rollback(Txn& txn) {
  for (auto it = txn.ephemeral_log.rbegin(); it != txn.ephemeral_log.rend(); ++it) {
    auto& [session, path, added] = *it;
    if (added) {
      auto e = ephemerals_.find(session);
      if (e != ephemerals_.end()) {
        e->second.erase(path);
        if (e->second.empty()) ephemerals_.erase(e);
      }
    } else {
      ephemerals_[session].insert(path);
    }
  }
  for (auto& [path, node] : txn.saved) {
    if (node)
      nodes_[path] = std::move(*node);
    else
      nodes_.erase(path);
  }
  txn.ephemeral_log.clear();
  txn.saved.clear();
  txn.events.clear();
}

void DataTree::WatchTable::add(const std::string& path, int64_t session) {
  by_path[path].insert(session);
  by_session[session].insert(path);
}

std::set<int64_t> DataTree::WatchTable::take(std::string_view path) {
  if (by_path.empty()) return {};
  auto it = by_path.find(path);
  if (it == by_path.end()) return {};
  std::set<int64_t> sessions = std::move(it->second);
  by_path.erase(it);
  for (int64_t s : sessions) {
    auto mine = by_session.find(s);
    mine->second.erase(std::string(path));
    if (mine->second.empty()) by_session.erase(mine);
  }
  return sessions;
}

void DataTree::WatchTable::drop(int64_t session) {
  auto mine = by_session.find(session);
  if (mine == by_session.end()) return;
  for (const std::string& path : mine->second) {
    auto it = by_path.find(path);
    it->second.erase(session);
    if (it->second.empty()) by_path.erase(it);
  }
  by_session.erase(mine);
}

std::set<int64_t> DataTree::trigger(WatchTable& table, std::string_view path, WatchEventType type,
                                    std::vector<WatchFire>& fired,
                                    const std::set<int64_t>* suppress) {
  std::set<int64_t> sessions = table.take(path);
  for (int64_t s : sessions)
    if (!suppress || !suppress->count(s)) fired.push_back(WatchFire{s, type, std::string(path)});
  return sessions;
}

// The triggers DataTree.createNode, deleteNode and setData run, in their order.
void DataTree::commit(Txn& txn, std::vector<WatchFire>& fired) {
  for (auto& [event, path] : txn.events) {
    switch (event) {
      case NodeEvent::Created:
        trigger(data_watches_, path, WatchEventType::Created, fired, nullptr);
        trigger(child_watches_, parent_view(path), WatchEventType::ChildrenChanged, fired, nullptr);
        break;
      case NodeEvent::Deleted: {
        std::set<int64_t> told =
            trigger(data_watches_, path, WatchEventType::Deleted, fired, nullptr);
        trigger(child_watches_, path, WatchEventType::Deleted, fired, &told);
        trigger(child_watches_, parent_view(path), WatchEventType::ChildrenChanged, fired, nullptr);
        break;
      }
      case NodeEvent::DataChanged:
        trigger(data_watches_, path, WatchEventType::DataChanged, fired, nullptr);
        break;
    }
  }
  txn.events.clear();
}

Error DataTree::apply_create(Txn& txn, int64_t session, const std::string& path,
                             const std::string& data, CreateMode mode, int64_t ttl_ms,
                             std::string& created, Stat& stat) {
  int mode_num = static_cast<int>(mode);
  if (mode_num < 0 || mode_num > static_cast<int>(CreateMode::PersistentSequentialWithTtl))
    return Error::BadArguments;  // CreateMode.fromFlag
  if (is_ttl(mode) && (ttl_ms <= 0 || ttl_ms > kMaxTtlMs)) return Error::BadArguments;
  // The parent as the server computes it for a create: everything before the last '/', so
  // a sequential "/a/" has parent "/a" and "/" has the root.
  const std::string_view parent_name = parent_view(path);
  auto parent = nodes_.find(parent_name);
  if (parent == nodes_.end()) return Error::NoNode;
  if (parent->second.read_only) return Error::NoAuth;
  std::string full = path;
  if (is_sequential(mode)) full += sequential_suffix(parent->second.stat.cversion);
  if (!server_path_ok(full)) return Error::BadArguments;
  if (nodes_.count(full)) return Error::NodeExists;
  if (normal_ephemeral(parent->second.stat.ephemeral_owner)) return Error::NoChildrenForEphemerals;

  save(txn, parent_name);
  save(txn, full);
  Node& p = parent->second;  // save() inserts nothing, so the lookup still holds
  p.add_child(base_name(full));
  p.stat.cversion = wrap_add(p.stat.cversion, 1);
  p.stat.pzxid = txn.zxid;

  Node node;
  node.data = data;
  node.creator = session;
  node.stat.czxid = node.stat.mzxid = node.stat.pzxid = txn.zxid;
  node.stat.ctime = node.stat.mtime = txn.now_ms;
  if (mode == CreateMode::Container) {
    node.container = true;
    node.stat.ephemeral_owner = kContainerOwner;
  } else if (is_ttl(mode)) {
    node.ttl_ms = ttl_ms;
    node.stat.ephemeral_owner = static_cast<int64_t>(kTtlOwnerBits | static_cast<uint64_t>(ttl_ms));
  } else if (is_ephemeral(mode)) {
    node.stat.ephemeral_owner = session;
  }
  stat = client_stat(node);
  nodes_.emplace(full, std::move(node));
  if (is_ephemeral(mode)) note_ephemeral(txn, session, full, true);
  txn.events.emplace_back(NodeEvent::Created, full);
  created = std::move(full);
  return Error::Ok;
}

void DataTree::erase_node(Txn& txn, const std::string& path) {
  const std::string_view parent_name = parent_view(path);
  save(txn, parent_name);
  save(txn, path);
  auto parent = nodes_.find(parent_name);
  Node& p = parent != nodes_.end() ? parent->second : nodes_[std::string(parent_name)];
  p.remove_child(base_name(path));
  // DataTree.deleteNode moves pzxid but not the stored cversion (see client_stat).
  if (txn.zxid > p.stat.pzxid) p.stat.pzxid = txn.zxid;
  auto node = nodes_.find(path);
  int64_t owner = node != nodes_.end() ? node->second.stat.ephemeral_owner : 0;
  if (node != nodes_.end()) nodes_.erase(node);
  if (normal_ephemeral(owner)) note_ephemeral(txn, owner, path, false);
  txn.events.emplace_back(NodeEvent::Deleted, path);
}

Error DataTree::apply_remove(Txn& txn, const std::string& path, int32_t version) {
  if (special_path(path)) return Error::BadArguments;
  auto parent = nodes_.find(parent_view(path));
  if (parent == nodes_.end()) return Error::NoNode;
  if (parent->second.read_only) return Error::NoAuth;
  auto it = nodes_.find(path);
  if (it == nodes_.end()) return Error::NoNode;
  if (version != -1 && version != it->second.stat.version) return Error::BadVersion;
  if (!it->second.children.empty()) return Error::NotEmpty;
  erase_node(txn, path);
  return Error::Ok;
}

Error DataTree::apply_set(Txn& txn, const std::string& path, const std::string& data,
                          int32_t version, Stat& stat) {
  if (!server_path_ok(path)) return Error::BadArguments;
  auto it = nodes_.find(path);
  if (it == nodes_.end()) return Error::NoNode;
  if (it->second.read_only) return Error::NoAuth;
  if (version != -1 && version != it->second.stat.version) return Error::BadVersion;
  save(txn, path);
  Node& n = nodes_[path];
  n.data = data;
  n.stat.version = next_version(n.stat.version);
  n.stat.mzxid = txn.zxid;
  n.stat.mtime = txn.now_ms;
  stat = client_stat(n);
  txn.events.emplace_back(NodeEvent::DataChanged, path);
  return Error::Ok;
}

Error DataTree::apply_check(const std::string& path, int32_t version) const {
  if (!server_path_ok(path)) return Error::BadArguments;
  auto it = nodes_.find(path);
  if (it == nodes_.end()) return Error::NoNode;
  if (version != -1 && version != it->second.stat.version) return Error::BadVersion;
  return Error::Ok;
}

CreateReply DataTree::create(int64_t session, const std::string& path, const std::string& data,
                             CreateMode mode, int64_t ttl_ms, int64_t now_ms,
                             std::vector<WatchFire>& fired) {
  CreateReply reply;
  // zoo_acreate2_ttl refuses these without sending: a TTL mode needs a TTL in range, and
  // any other mode takes none.
  if ((is_ttl(mode) && (ttl_ms <= 0 || ttl_ms > kMaxTtlMs)) || (!is_ttl(mode) && ttl_ms != 0) ||
      !c_client_path_valid(path, is_sequential(mode))) {
    reply.err = Error::BadArguments;
    return reply;
  }
  Txn txn;
  txn.zxid = next_zxid();
  txn.now_ms = now_ms;
  reply.err = apply_create(txn, session, path, data, mode, ttl_ms, reply.path, reply.stat);
  commit(txn, fired);
  return reply;
}

Error DataTree::remove(const std::string& path, int32_t version, std::vector<WatchFire>& fired) {
  if (!c_client_path_valid(path, false)) return Error::BadArguments;
  Txn txn;
  txn.zxid = next_zxid();
  Error err = apply_remove(txn, path, version);
  commit(txn, fired);
  return err;
}

SetReply DataTree::set(const std::string& path, const std::string& data, int32_t version,
                       int64_t now_ms, std::vector<WatchFire>& fired) {
  SetReply reply;
  if (!c_client_path_valid(path, false)) {
    reply.err = Error::BadArguments;
    return reply;
  }
  Txn txn;
  txn.zxid = next_zxid();
  txn.now_ms = now_ms;
  reply.err = apply_set(txn, path, data, version, reply.stat);
  commit(txn, fired);
  return reply;
}

MultiReply DataTree::multi(int64_t session, const std::vector<Op>& ops, int64_t now_ms,
                           std::vector<WatchFire>& fired) {
  MultiReply reply;
  auto fail_at = [&](size_t bad, Error err) {
    reply.err = err;
    reply.results.assign(ops.size(), OpResult{});
    for (size_t i = 0; i < ops.size(); ++i)
      reply.results[i].err = i < bad ? Error::Ok : i == bad ? err : Error::RuntimeInconsistency;
  };
  // zoo_amulti gives up before sending: a create the C client cannot carry in a multi
  // (Unimplemented for the whole request, wherever it is, with no per-op results), and an
  // invalid path fails serialization.
  if (std::any_of(ops.begin(), ops.end(), multi_create_unsupported)) {
    reply.err = Error::Unimplemented;
    return reply;
  }
  for (const Op& op : ops) {
    bool sequential = op.type == OpType::Create && is_sequential(op.mode);
    if (!c_client_path_valid(op.path, sequential)) {
      reply.err = Error::MarshallingError;
      return reply;
    }
  }

  Txn txn;
  txn.zxid = next_zxid();
  txn.now_ms = now_ms;
  txn.undoable = true;
  std::vector<OpResult> results(ops.size());
  for (size_t i = 0; i < ops.size(); ++i) {
    const Op& op = ops[i];
    OpResult& r = results[i];
    switch (op.type) {
      case OpType::Create:
        r.err = apply_create(txn, session, op.path, op.data, op.mode, 0, r.path, r.stat);
        break;
      case OpType::Remove:
        r.err = apply_remove(txn, op.path, op.version);
        break;
      case OpType::Set:
        r.err = apply_set(txn, op.path, op.data, op.version, r.stat);
        break;
      case OpType::Check:
        r.err = apply_check(op.path, op.version);
        break;
    }
    if (r.err != Error::Ok) {
      rollback(txn);
      fail_at(i, r.err);
      return reply;
    }
  }
  commit(txn, fired);
  reply.results = std::move(results);
  return reply;
}

ReadResult DataTree::get(int64_t session, const std::string& path, bool watch) {
  ReadResult r;
  if (!c_client_path_valid(path, false)) {
    r.err = Error::BadArguments;
    return r;
  }
  auto it = nodes_.find(path);
  if (it == nodes_.end()) {
    r.err = Error::NoNode;
    return r;
  }
  r.data = it->second.data;
  r.stat = client_stat(it->second);
  if (watch) {
    data_watches_.add(path, session);
    r.watch_set = true;
  }
  return r;
}

ReadResult DataTree::exists(int64_t session, const std::string& path, bool watch) {
  ReadResult r;
  if (!c_client_path_valid(path, false)) {
    r.err = Error::BadArguments;
    return r;
  }
  // DataTree.statNode registers before looking: a missing node is watched for creation.
  if (watch) {
    data_watches_.add(path, session);
    r.watch_set = true;
  }
  auto it = nodes_.find(path);
  if (it == nodes_.end()) {
    r.err = Error::NoNode;
    return r;
  }
  r.stat = client_stat(it->second);
  return r;
}

ReadResult DataTree::children(int64_t session, const std::string& path, bool watch) {
  ReadResult r;
  if (!c_client_path_valid(path, false)) {
    r.err = Error::BadArguments;
    return r;
  }
  auto it = nodes_.find(path);
  if (it == nodes_.end()) {
    r.err = Error::NoNode;
    return r;
  }
  Node& node = it->second;
  if (!node.listing)
    node.listing = std::make_shared<const NameList>(
        NameList::of_sorted(node.children.begin(), node.children.end()));
  r.children = node.listing;
  r.stat = client_stat(it->second);
  if (watch) {
    child_watches_.add(path, session);
    r.watch_set = true;
  }
  return r;
}

void DataTree::kill_session(int64_t session, std::vector<WatchFire>& fired, bool tell_owner) {
  // Without `tell_owner` (its connection is gone, or it closed the session itself), dropping
  // its registrations first is the same as ZooKeeper closing the connection after the
  // deletes: the dead session is told nothing either way.
  if (!tell_owner) drop_watches(session);
  Txn txn;
  txn.zxid = next_zxid();
  auto it = ephemerals_.find(session);
  if (it != ephemerals_.end()) {
    std::set<std::string> paths = it->second;
    for (const std::string& path : paths) erase_node(txn, path);
  }
  ephemerals_.erase(session);
  commit(txn, fired);
  if (tell_owner) drop_watches(session);
}

void DataTree::drop_watches(int64_t session) {
  data_watches_.drop(session);
  child_watches_.drop(session);
}

void DataTree::set_watches(int64_t session, int64_t relative_zxid,
                           const std::vector<std::string>& data,
                           const std::vector<std::string>& exist,
                           const std::vector<std::string>& child, std::vector<WatchFire>& fired) {
  for (const std::string& path : data) {
    auto it = nodes_.find(path);
    if (it == nodes_.end())
      fired.push_back(WatchFire{session, WatchEventType::Deleted, path});
    else if (it->second.stat.mzxid > relative_zxid)
      fired.push_back(WatchFire{session, WatchEventType::DataChanged, path});
    else
      data_watches_.add(path, session);
  }
  for (const std::string& path : exist) {
    if (nodes_.count(path))
      fired.push_back(WatchFire{session, WatchEventType::Created, path});
    else
      data_watches_.add(path, session);
  }
  for (const std::string& path : child) {
    auto it = nodes_.find(path);
    if (it == nodes_.end())
      fired.push_back(WatchFire{session, WatchEventType::Deleted, path});
    else if (it->second.stat.pzxid > relative_zxid)
      fired.push_back(WatchFire{session, WatchEventType::ChildrenChanged, path});
    else
      child_watches_.add(path, session);
  }
}

std::vector<DataTree::Reaped> DataTree::expire_ttl_and_containers(int64_t now_ms,
                                                                  std::vector<WatchFire>& fired) {
  // ContainerManager.getCandidates, then one deleteContainer transaction per candidate.
  std::map<std::string, bool> candidates;  // path -> its TTL ran out
  for (const auto& [path, node] : nodes_) {
    if (!node.children.empty()) continue;
    // A container that never had a child is kept, so it is not reaped before first use.
    if (node.container && node.stat.cversion > 0) candidates[path] |= false;
    if (node.ttl_ms > 0 && now_ms - node.stat.mtime > node.ttl_ms) candidates[path] = true;
  }
  std::vector<Reaped> reaped;
  for (const auto& [path, ttl] : candidates) {
    Txn txn;
    txn.zxid = next_zxid();
    txn.now_ms = now_ms;
    auto it = nodes_.find(path);
    if (it != nodes_.end() && it->second.children.empty()) {
      erase_node(txn, path);
      reaped.push_back({path, ttl});
    }
    commit(txn, fired);
  }
  return reaped;
}

std::vector<std::string> DataTree::paths_under(const std::string& prefix) const {
  std::vector<std::string> out;
  std::string start = prefix == "/" ? "/" : prefix + "/";
  for (const auto& [path, node] : nodes_)
    if (path.compare(0, start.size(), start) == 0 && path != prefix) out.push_back(path);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> DataTree::ephemerals_of(int64_t session) const {
  auto it = ephemerals_.find(session);
  if (it == ephemerals_.end()) return {};
  return {it->second.begin(), it->second.end()};
}

size_t DataTree::watch_count() const {
  size_t n = 0;
  for (const auto& [path, sessions] : data_watches_.by_path) n += sessions.size();
  for (const auto& [path, sessions] : child_watches_.by_path) n += sessions.size();
  return n;
}

int64_t DataTree::stored_ephemeral_owner(const std::string& path) const {
  auto it = nodes_.find(path);
  return it == nodes_.end() ? 0 : it->second.stat.ephemeral_owner;
}

int64_t DataTree::ttl_ms_of(const std::string& path) const {
  auto it = nodes_.find(path);
  return it == nodes_.end() ? 0 : it->second.ttl_ms;
}

int64_t DataTree::creator_of(const std::string& path) const {
  auto it = nodes_.find(path);
  return it == nodes_.end() ? 0 : it->second.creator;
}

std::set<int64_t> DataTree::data_watchers(const std::string& path) const {
  auto it = data_watches_.by_path.find(path);
  return it == data_watches_.by_path.end() ? std::set<int64_t>{} : it->second;
}

std::set<int64_t> DataTree::child_watchers(const std::string& path) const {
  auto it = child_watches_.by_path.find(path);
  return it == child_watches_.by_path.end() ? std::set<int64_t>{} : it->second;
}

}  // namespace lockstep
