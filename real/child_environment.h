// The environment a client process is started with: ours, with some variables set to what
// the run decided. Made before fork (the parent has threads, so the child may only make
// async-signal-safe calls until exec).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace lockstep::real {

class ChildEnvironment {
 public:
  // This process's environment, where each name in `settings` has the given value (an
  // inherited value of that name is dropped, so a variable in the user's shell cannot
  // override what the run decided).
  explicit ChildEnvironment(const std::vector<std::pair<std::string, std::string>>& settings);

  // For execve: valid while this object lives and is not moved.
  char* const* envp() { return envp_.data(); }

 private:
  std::vector<std::string> entries_;
  std::vector<char*> envp_;
};

}  // namespace lockstep::real
