// lockstep's public API, for a program that brings its own lock algorithm
// (docs/extending.md): find_package(lockstep), link lockstep::lockstep, include this.
//
// These are the project's own headers, not copies: installed, they keep their in-tree
// paths under include/lockstep/, which the package puts on the include path.
#pragma once

#include "cli/cli_main.h"        // cli_main(argc, argv): the whole lockstep command; version()
#include "core/check/checker.h"  // the checkers, and the Verdict they return
#include "core/env.h"            // Env: a process's clock, timers and random stream
#include "core/future.h"         // Future<T>, first_of(...)
#include "core/lock.h"           // Lock, Lease, LockContext, AlgorithmInfo, register_algorithm
#include "core/locks/common.h"   // helpers the built-in locks share (ensure_path, ...)
#include "core/options.h"        // OptionSpec, OptionType, OptionValues
#include "core/store.h"          // Store, Session, the replies, Error, CreateMode
#include "core/task.h"           // Task<T>: what acquire and release are
#include "core/time.h"           // Time, Duration
