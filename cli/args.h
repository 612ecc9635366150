// A small argument reader shared by the subcommands: flags with values, positionals,
// and one clear error line for anything it does not know.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace lockstep::cli {

struct UsageError {
  std::string message;
};

class Args {
 public:
  // `with_value`: flags that take a value ("--seed 7" or "--seed=7"); `switches`: flags
  // without one. Anything else starting with "--" is an error.
  Args(const std::vector<std::string>& argv, const std::set<std::string>& with_value,
       const std::set<std::string>& switches);

  bool has(const std::string& flag) const;
  std::optional<std::string> value(const std::string& flag) const;
  std::vector<std::string> values(const std::string& flag) const;  // repeated flags
  const std::vector<std::string>& positional() const { return positional_; }

  // Typed reads; a malformed value throws UsageError naming the flag.
  std::optional<uint64_t> unsigned_value(const std::string& flag) const;

 private:
  std::vector<std::pair<std::string, std::string>> flags_;
  std::vector<std::string> positional_;
};

}  // namespace lockstep::cli
