// The whole `lockstep` command as a function, so a program of the user's can be it: register
// the user's algorithms (register_algorithm in core/lock.h), then hand over argc and argv.
//
//   int main(int argc, char** argv) {
//     lockstep::register_algorithm(my_lock_info());
//     return lockstep::cli_main(argc, argv);
//   }
//
// run, check, check --all, live and algorithms then know the user's algorithm beside the
// built-in ones. `live` starts its clients by running this same program again
// (/proc/self/exe live-client ...), so they register the same algorithms the same way.
#pragma once

namespace lockstep {

// The semantic version of this lockstep (CMake's project VERSION), e.g. "0.2.0".
const char* version();

// Runs the command line argv[1..] and returns the exit status: 0 every checker held, 1 a
// violation, 2 bad input (one line on stderr), 3 an internal error.
int cli_main(int argc, char** argv);

}  // namespace lockstep
