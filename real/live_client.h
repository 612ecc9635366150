// One client of a live run: the workload of core/workload on a LiveEnv, its history
// streamed, event by event, to whoever coordinates the run (lockstep live).
//
// A client runs either as a process of its own (the `live-client` subcommand, against
// ZooKeeper: a SIGSTOP then stops every thread of it, the C client's included) or as a
// thread of the coordinator's process (the `local:` store). Both run the same
// run_live_client(); what differs is where its messages go.
//
// Time: every event is stamped with the steady clock (CLOCK_MONOTONIC on Linux), which
// every process of one machine shares, so the stamps of different clients compare. An
// event is the moment the workload records it: lo is read as the recorder is entered, hi
// after the event has been built, so the event certainly happened within [lo, hi].
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/history.h"
#include "core/shared_registry.h"
#include "core/store.h"
#include "core/time.h"
#include "core/workload.h"
#include "real/event_loop.h"

namespace lockstep::real {

// Everything one client needs, in a form that crosses a process boundary.
struct LiveClientSpec {
  int index = 0;
  std::string algorithm = "recipe";
  std::map<std::string, std::string> options;
  std::string lock_path = "/locks/a";  // absolute, as the clients use it
  int cycles = 20;
  Duration hold = std::chrono::milliseconds(5);
  Duration think = std::chrono::milliseconds(1);
  Duration acquire_timeout = std::chrono::seconds(30);
  bool heed_lost = true;
  Duration session_timeout = std::chrono::seconds(4);
  bool resource = false;
  bool fenced = true;
  bool separate_resource = false;
  Duration resource_session_timeout{0};
  std::string fencing;  // "", "czxid", "sequence", "none"
  // The stores, one connect string per session the algorithm opens (process clients
  // only: "host:port,...[/chroot]"); the resource's ("" = the first store's).
  std::vector<std::string> connect;
  std::string resource_connect;
};

// The spec as command-line words (`lockstep live-client WORDS...`) and back. decode
// throws std::invalid_argument naming the bad word.
std::vector<std::string> encode_client_spec(const LiveClientSpec& spec);
LiveClientSpec decode_client_spec(const std::vector<std::string>& words);

// What a client tells its coordinator, one line each on the wire.
struct ClientMessage {
  enum class Kind {
    Event,    // a history event, stamped with the steady clock
    Session,  // a session was opened: store (lock store index, or -1 for the resource's),
              // id and password (empty where the store has none)
    Stats,    // the store requests the client issued in all (sent once, at the end)
    Error,    // the client cannot go on: text says why
    Exited,   // (made by the coordinator's side) the client is gone: clean or not
  };
  Kind kind = Kind::Event;
  int client = -1;
  HistoryEvent event;
  int store = 0;
  int64_t session_id = 0;
  std::string passwd;
  int64_t requests = 0;
  std::string text;
  bool clean = false;  // Exited: the client finished its workload and exited normally
};

// One line, without the newline; decode returns nullopt for a line it cannot read.
std::string encode_message(const ClientMessage& m);
std::optional<ClientMessage> decode_message(std::string_view line, int client);

using MessageSink = std::function<void(const ClientMessage&)>;

// Runs one client's workload on `loop` (on this thread) until it is done: the sessions
// go to `stores` (one per session the algorithm opens; the resource's to
// `resource_store`, null for the first). Every event, every opened session and the
// final request count go to `sink`, from this thread. `shared` is the process's
// registry (the `local` algorithm's table). Returns "" when the workload finished, else
// why it did not (the loop was stopped, the workload threw).
std::string run_live_client(EventLoop& loop, const LiveClientSpec& spec,
                            const std::vector<Store*>& stores, Store* resource_store,
                            const MessageSink& sink, SharedRegistry* shared);

// The `live-client` process: connects to ZooKeeper as the spec says, runs the client and
// writes its messages to `fd`, one line each. Returns the exit status (0 when the
// workload finished).
int live_client_process(const LiveClientSpec& spec, int fd);

}  // namespace lockstep::real
