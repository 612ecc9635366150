// `lockstep live --client-cmd "CMD ARGS"`: the clients of a live run are programs of any
// language, black boxes that speak the line protocol (line_protocol.h, docs/live.md).
// This backend runs them and does the workload for them: it sends each one its ops
// (acquire, increment, release, quit) on stdin at the times core/workload's would come,
// reads its events on stdout, and turns them into the history the shared judge reads. The
// coordinator (real/live_runner.h) applies the faults and judges, as for the built-in
// algorithms.
//
// Time. lockstep stamps every line itself, on the steady clock, so a client's word is
// placed conservatively in time: a line read at `hi` was written at the earliest at the
// last moment lockstep saw the client's stdout empty (`lo`). A belief therefore starts
// when its `acquired` line is read and ends when `release` is written (or, for an
// unprompted `lost`, at that line's `lo`): the client certainly believed in between, so a
// reported overlap is a real one. No op is written to a paused (SIGSTOPped) client: it
// could not read it, so an op written then would end its belief too early.
//
// A client that hangs (no answer within its op's deadline), dies, or writes a line that
// is not the protocol is killed at once, with one `problem:` line naming it, its stdout
// line and its stderr log; the verdicts then say what that left undone.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "real/live_runner.h"
#include "real/zk_store.h"

namespace lockstep::real::blackbox {

struct ClientCommand {
  std::vector<std::string> argv;  // the program and its arguments, executed without a shell
  std::string log_dir;            // client-N.log there gets client N's stderr
};

// The words of a --client-cmd string (split on whitespace); throws std::invalid_argument
// when it is empty or its program is not an executable file (found on PATH if it has no
// '/').
std::vector<std::string> split_command(const std::string& text);

// How long a client may take before it counts as hung.
struct ClientDeadlines {
  Duration ready = std::chrono::seconds(60);  // from its start to `ready` (a JVM is slow)
  // An answer to increment or release; an acquire gets its timeout_ms on top.
  Duration answer{0};                        // 0: max(10 s, 3 x the session timeout)
  Duration exit = std::chrono::seconds(10);  // from quit to its exit
};

class ClientCommandBackend final : public LiveBackend {
 public:
  // `connect`: the ZooKeeper connect string the clients get as LOCKSTEP_ZK (the admin's
  // too, and the one kill-leader aims at).
  // `options.auth`: the run's identity, given to the client as LOCKSTEP_ZK_AUTH (see
  // real/zk_auth.h) and used by lockstep's own sessions (setup, counter, cleanup).
  ClientCommandBackend(ClientCommand command, std::string connect, ClientDeadlines deadlines = {},
                       ZkOptions options = {});
  ~ClientCommandBackend() override;

  std::string describe() const override;
  Store& admin_store() override;
  Task<Error> prepare(Env& env, Duration connect_within) override;
  void start(const LiveClientSpec& spec) override;
  // Until every client first started has said `ready` (or failed): their first acquire
  // waits for it, so they contend from the run's time 0 on.
  bool wait_until_started(Duration limit) override;
  std::vector<ClientMessage> poll(Duration wait) override;
  bool running(int client) const override;
  bool suspend(int client) override;
  bool resume(int client) override;
  std::string crash(int client) override;
  Error expire(const SessionRef& session) override;
  ZkNodeOutcome kill_leader() override;
  ZkNodeOutcome restart_node(const std::string& node) override;
  void kill_all() override;
  bool writes_ordered() const override { return writes_ordered_; }

 private:
  struct Client;
  ClientCommand command_;
  std::string connect_;
  ClientDeadlines deadlines_;
  ZkOptions options_;
  std::unique_ptr<Store> admin_;
  ZkServerControl control_;
  std::vector<std::unique_ptr<Client>> clients_;  // by index; null if never started
  std::vector<ClientMessage> out_;                // messages not yet handed out
  bool resource_ready_ = false;
  bool writes_ordered_ = true;  // every accepted increment named its zxid
  bool holding_start_ = true;   // until wait_until_started() is over: no op is sent
  bool start_pending_ = false;  // the first clients' ClientStart is still to be recorded

  Client* client(int index) const;
  void pump(Duration wait);  // reads, steps and reaps; messages go to out_
  void create_resource(const std::string& path);
  void read_stdout(Client& c);
  void on_line(Client& c, std::string_view line, Time lo, Time hi);
  void step(Client& c);  // the workload's next move, when it is due
  void send(Client& c, const std::string& op);
  void expect(Client& c, std::string what, Duration within);  // an answer, by a deadline
  void begin_cycle(Client& c);
  void begin_release(Client& c);
  void after_release(Client& c);
  void record(Client& c, EventKind kind, Time lo, Time hi, std::string detail = {});
  void fail(Client& c, const std::string& why);
  void check_exit(Client& c);
  void kill_group(Client& c);
};

}  // namespace lockstep::real::blackbox
