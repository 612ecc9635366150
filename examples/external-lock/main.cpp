// The lockstep command with owner-note in its catalogue: run, check, check --all, live
// and algorithms all know it. Registration is an explicit call before cli_main, so it
// does not depend on static initialisation order or on the linker keeping an object file.
#include <lockstep/lockstep.h>

#include "owner_note.h"

int main(int argc, char** argv) {
  lockstep::register_algorithm(owner_note_algorithm());
  return lockstep::cli_main(argc, argv);
}
