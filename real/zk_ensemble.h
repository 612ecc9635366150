// Looking at and hurting the ZooKeeper servers behind a connect string: the four-letter
// words, which node leads, and killing / restarting a node (the `kill-leader` fault of
// `lockstep live`).
//
// Only a server that scripts/zk started on this machine is ever killed, through the
// script, which knows its PID (it checks the process is that node's java before it
// signals it): the script is found through $LOCKSTEP_ZK_SCRIPT, or as scripts/zk next to
// (or one or two levels above) the running executable, and the state dir is
// $LOCKSTEP_ZK_STATE (default /tmp/lockstep-zk-$USER), which must be ours and record the
// node's client port. Any other server (another host, another user's, one started by
// hand) is refused: whatever listens on a port number is not necessarily that server.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/time.h"

namespace lockstep::real {

// Sends a four-letter word ("srvr", "ruok", ...) to host:port and returns the answer;
// "" if nothing answers within `timeout`.
std::string zk_four_letter(const std::string& host_port, const std::string& word,
                           Duration timeout = std::chrono::seconds(2));
// "leader", "follower", "standalone", or "" when the server does not serve.
std::string zk_mode(const std::string& host_port);
// The host:port entries of a connect string (its chroot dropped).
std::vector<std::string> zk_hosts(const std::string& connect_string);

// Why `kill-leader` may not kill the server at host:port (nullopt: it may), in one line.
std::optional<std::string> why_not_killable(const std::string& node);
// The same for every server of a connect string.
std::optional<std::string> why_not_killable_ensemble(const std::string& connect_string);

struct ZkNodeOutcome {
  bool ok = false;
  std::string node;  // host:port
  std::string text;  // what was done, or why not
};

class ZkServerControl {
 public:
  explicit ZkServerControl(std::string connect_string);

  // Finds the leader (a standalone server leads itself) and kills it with SIGKILL.
  // Blocks until it is dead.
  ZkNodeOutcome kill_leader();
  // Starts a node killed by kill_leader() again (scripts/zk restart) and waits until it
  // serves (up to the script's start timeout, $LOCKSTEP_ZK_START_TIMEOUT).
  ZkNodeOutcome restart(const std::string& node);

 private:
  struct Killed {
    std::string node;
    int script_index = 0;  // the scripts/zk node
  };
  std::string connect_string_;
  std::vector<Killed> killed_;
};

}  // namespace lockstep::real
