// The live form of the fault kinds: how `live --fault` writes one (NAME:PARAM:...), and
// which scenario faults a live run can do. A kind has one if its descriptor's `live`
// lists params; the live runner (real/) then does it, dispatching on its FaultKind.
#pragma once

#include <optional>
#include <string>

#include "core/faults/live_fault.h"
#include "sim/faults/descriptor.h"

namespace lockstep::sim {

// "pause:holder:1s:8s", "expire:2:1s" (an older spelling), ... for a run of `clients`.
// Throws std::invalid_argument naming --fault and what is wrong.
LiveFault parse_live_fault(const std::string& text, int clients);
// The form parse_live_fault reads back: "pause:holder:1s:8s".
std::string live_fault_text(const LiveFault& f);
// "pause:CLIENT:AT:FOR", "crash:CLIENT:AT[:RESTART_AFTER]".
std::string live_usage(const FaultDescriptor& d);
// One line per kind with a live form, its usage and what is done, each after `indent`.
std::string live_help(size_t indent);
// A scenario fault's live form; nullopt if it has none.
std::optional<LiveFault> live_form(const Fault& f);
// Whether the kind's live form names a client.
bool live_names_client(FaultKind kind);

}  // namespace lockstep::sim
