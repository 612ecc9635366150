// lockstep: deterministic simulation and testing of distributed lock algorithms. The
// command is cli_main; a user's program that registers its own algorithms calls it too.
#include "cli/cli_main.h"

int main(int argc, char** argv) { return lockstep::cli_main(argc, argv); }
