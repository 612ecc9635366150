#include "sim/zk/protocol.h"

namespace lockstep::sim {

const char* request_kind_name(RequestKind k) {
  switch (k) {
    case RequestKind::Connect: return "connect";
    case RequestKind::Ping: return "ping";
    case RequestKind::Create: return "create";
    case RequestKind::Remove: return "delete";
    case RequestKind::Get: return "get";
    case RequestKind::Exists: return "exists";
    case RequestKind::Children: return "children";
    case RequestKind::Set: return "set";
    case RequestKind::Multi: return "multi";
    case RequestKind::CloseSession: return "close";
    case RequestKind::SetWatches: return "set_watches";
  }
  return "unknown";
}

}  // namespace lockstep::sim
