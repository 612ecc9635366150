// Who a live run's sessions are, for a secured ZooKeeper (`lockstep live --auth`), and the
// ACL their nodes get.
//
// With an identity, every session adds it (zoo_add_auth, sent again by the C client on
// every reconnect) and every node lockstep creates (lock, queue, resource and the run's
// root and parents) gets [auth: all permissions, world:anyone: read]: only that identity
// may create children, write or delete, as ZooKeeper checks a delete against the parent's
// ACL. Everyone may still read, so an observer (zkCli, a checker) can follow the run.
//
// The identity reaches the client processes through the environment (kZkAuthEnvironment),
// never through their command lines, which any local user can read in /proc.
#pragma once

#include <optional>
#include <string>

namespace lockstep::real {

struct ZkAuth {
  std::string scheme;       // "digest"
  std::string credentials;  // "USER:PASSWORD", as zoo_add_auth takes it
};

inline constexpr const char* kZkAuthEnvironment = "LOCKSTEP_ZK_AUTH";

// Reads "digest:USER:PASSWORD" (the password may hold ':'). On bad input, nullopt and
// `error` says what is wrong without echoing the password.
std::optional<ZkAuth> parse_zk_auth(const std::string& text, std::string& error);

// The flag's form again, for the environment of a client process.
std::string format_zk_auth(const ZkAuth& auth);

// The identity in LOCKSTEP_ZK_AUTH, if set. Throws std::invalid_argument if it is set and
// malformed: a client told to be secured must not run open.
std::optional<ZkAuth> zk_auth_from_environment();

}  // namespace lockstep::real
