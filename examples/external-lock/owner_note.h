// owner-note: a lock of the user's, outside lockstep's tree (see owner_note.cpp).
#pragma once

#include <lockstep/lockstep.h>

// The catalogue entry of owner-note: its name, summary, options and factory.
lockstep::AlgorithmInfo owner_note_algorithm();
