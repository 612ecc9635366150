// The keys several fault kinds share (client, at, for, restart_after, store, probability):
// how a kind's descriptor reads, writes and describes them, so each is spelled one way.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "sim/faults/descriptor.h"
#include "sim/scenario_json.h"

namespace lockstep::sim::fields {

using scenario_json::Obj;
using Json = nlohmann::ordered_json;

// Reading: each reads its key if the entry has it.
void read_client(const Obj& o, const FaultLimits& limits, Fault& f, bool server_ok = false);
void read_for(const Obj& o, Fault& f);
void read_restart_after(const Obj& o, Fault& f);
void read_store(const Obj& o, const FaultLimits& limits, Fault& f);
void read_probability(const Obj& o, Fault& f);

// Writing: each writes its key (client, for and restart_after only when set).
void put_at(const Fault& f, Json& j);
void put_client(const Fault& f, Json& j);
void put_for(const Fault& f, Json& j);
void put_restart_after(const Fault& f, Json& j);
void put_store(const Fault& f, Json& j);  // when the fault names one
void put_probability(const Fault& f, Json& j);

// Describing: "client 3", "the holder", "a waiter", "the server", "every client".
std::string target_text(const std::optional<Target>& t);
// " on store K" when the fault names a store, "" otherwise.
std::string on_store_text(const Fault& f);
// The fault's "for", "0s" when it has none.
std::string length_text(const Fault& f);
// "+5s", "-5s".
std::string signed_duration(Duration d);

}  // namespace lockstep::sim::fields
