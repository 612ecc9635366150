// The table of fault kinds: one descriptor per FaultKind, in the order of
// core/faults/kinds.def. Every part of lockstep that takes a fault kind by name (the
// scenario file, `check --faults`, the nemesis, `live --fault`) looks it up here.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sim/faults/descriptor.h"

namespace lockstep::sim {

const std::vector<const FaultDescriptor*>& fault_table();
const FaultDescriptor& fault_descriptor(FaultKind kind);
std::string_view fault_name(FaultKind kind);
// Every kind, in the table's order.
const std::vector<FaultKind>& fault_kinds();
// Their names, in the table's order (for "known: ..." in messages).
const std::vector<std::string>& fault_names();
// The kind a scenario file names; null if none.
const FaultDescriptor* find_fault(std::string_view name);
// The kind a command line names, by its name or one of its older spellings.
const FaultDescriptor* find_fault_or_alias(std::string_view name);

}  // namespace lockstep::sim
