// Looking at and hurting the ZooKeeper servers behind a connect string: the four-letter
// words, which node leads, and killing / restarting a node (the `kill-leader` fault of
// `lockstep live`).
//
// A server started by scripts/zk is killed and restarted through the script, so its
// state dir keeps tracking the node's PID and `scripts/zk stop` still stops it: the
// script is found through $LOCKSTEP_ZK_SCRIPT, or as scripts/zk next to (or one or two
// levels above) the running executable, and the state dir is $LOCKSTEP_ZK_STATE (default
// /tmp/lockstep-zk-$USER), whose recorded client ports must include the node's. Any
// other server is found by the PID listening on its port, killed with SIGKILL, and
// restarted from the command line, working directory and environment it had; such a
// restarted server is a child of this process (its original starter no longer knows its
// PID).
#pragma once

#include <chrono>
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
  // Starts a node killed by kill_leader() again and waits (up to `timeout`) until it
  // serves.
  ZkNodeOutcome restart(const std::string& node, Duration timeout = std::chrono::seconds(60));

 private:
  struct Saved {
    std::string node;
    int script_index = 0;  // > 0: a scripts/zk node
    std::vector<std::string> argv;
    std::string exe, cwd;
    std::vector<std::string> env;
  };
  std::string connect_string_;
  std::vector<Saved> killed_;
};

}  // namespace lockstep::real
