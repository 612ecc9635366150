#include "core/locks/common.h"

#include <algorithm>
#include <cstdio>

namespace lockstep::locks {

Task<Error> ensure_path(Env& env, Session& session, std::string path, Time deadline) {
  // Top-down, one create per ancestor: the ports call this only after a create said
  // NoNode, so the cost is paid once per client, not once per acquire.
  size_t next = 1;
  while (next <= path.size()) {
    size_t slash = path.find('/', next);
    if (slash == std::string::npos) slash = path.size();
    std::string prefix = path.substr(0, slash);
    for (;;) {
      CreateReply r = co_await session.create(prefix, "", CreateMode::Persistent);
      if (r.err == Error::Ok || r.err == Error::NodeExists) break;
      if (r.err != Error::ConnectionLoss && r.err != Error::OperationTimeout) co_return r.err;
      if (env.now() >= deadline) co_return r.err;
      co_await env.sleep_for(kRetryPause);
    }
    next = slash + 1;
  }
  co_return Error::Ok;
}

std::vector<SequentialNode> sorted_by_sequence(const std::vector<std::string>& children,
                                               std::string_view must_contain) {
  std::vector<SequentialNode> out;
  out.reserve(children.size());
  for (const auto& name : children) {
    if (!must_contain.empty() && name.find(must_contain) == std::string::npos) continue;
    auto seq = sequence_number(name);
    if (!seq) continue;
    out.push_back({name, *seq});
  }
  std::sort(out.begin(), out.end(), [](const SequentialNode& a, const SequentialNode& b) {
    return a.sequence != b.sequence ? a.sequence < b.sequence : a.name < b.name;
  });
  return out;
}

QueueLook look_up_queue(const std::vector<std::string>& children, std::string_view must_contain,
                        SequentialNode place) {
  auto before = [](const SequentialNode& a, const SequentialNode& b) {
    return a.sequence != b.sequence ? a.sequence < b.sequence : a.name < b.name;
  };
  QueueLook out;
  for (const auto& name : children) {
    if (!must_contain.empty() && name.find(must_contain) == std::string::npos) continue;
    auto seq = sequence_number(name);
    if (!seq) continue;
    const SequentialNode node{name, *seq};
    if (!out.first || before(node, *out.first)) out.first = node;
    if (node.name == place.name) out.has_place = true;
    if (before(node, place) && (!out.ahead || before(*out.ahead, node))) out.ahead = node;
  }
  return out;
}

std::string sequence_suffix(int64_t n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%010lld", static_cast<long long>(n));
  return buf;
}

bool session_gone(Error e) {
  return e == Error::SessionExpired || e == Error::Closing || e == Error::AuthFailed ||
         e == Error::InvalidState;
}

Task<Error> remove_retrying(Env& env, Session& session, std::string path, int attempts) {
  Error err = Error::ConnectionLoss;
  for (int i = 0; i < attempts; ++i) {
    if (i > 0) co_await env.sleep_for(kRetryPause);
    err = co_await session.remove(path, -1);
    if (err != Error::ConnectionLoss && err != Error::OperationTimeout) break;
  }
  co_return err;
}

std::string keeper_error(Error e, std::string_view path) {
  std::string out = "KeeperErrorCode = ";
  out += error_name(e);
  if (!path.empty()) {
    out += " for ";
    out += path;
  }
  return out;
}

}  // namespace lockstep::locks
