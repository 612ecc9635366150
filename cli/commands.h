// The subcommands of `lockstep`. Each takes its arguments (after the subcommand name)
// and returns the process exit code: 0 all good, 1 a checker found a violation, 2 bad
// input.
#pragma once

#include <string>
#include <vector>

namespace lockstep::cli {

int run_command(const std::vector<std::string>& args);
int algorithms_command(const std::vector<std::string>& args);
int check_command(const std::vector<std::string>& args);
int live_command(const std::vector<std::string>& args);
int repro_command(const std::vector<std::string>& args);
int merge_command(const std::vector<std::string>& args);
// Hidden: one client process of `lockstep live` (its messages go to fd 3).
int live_client_command(const std::vector<std::string>& args);

}  // namespace lockstep::cli
