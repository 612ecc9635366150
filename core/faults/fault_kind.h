// The kinds of fault, as both worlds dispatch on them.
//
// The enum is in core/ because the simulator (sim/faults/) and the live runner
// (real/live_runner.cpp) both switch on it, and neither may include the other. Nothing
// else of a kind is here: its descriptor in sim/faults/ holds its name and everything else,
// and core/faults/kinds.def is the one list both are made from.
#pragma once

namespace lockstep {

enum class FaultKind : unsigned char {
#define LOCKSTEP_FAULT_KIND(kind, descriptor) kind,
#include "core/faults/kinds.def"
#undef LOCKSTEP_FAULT_KIND
};

inline constexpr int kFaultKindCount = 0
#define LOCKSTEP_FAULT_KIND(kind, descriptor) +1
#include "core/faults/kinds.def"
#undef LOCKSTEP_FAULT_KIND
    ;

}  // namespace lockstep
