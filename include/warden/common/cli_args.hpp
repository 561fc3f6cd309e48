#pragma once
// A tiny, strict command-line parser shared by every verb: `--name value`,
// `--name=value`, boolean `--flag`, and positionals. Unknown options are errors.
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace warden {

class CliArgs {
 public:
  // value_options take a value; flag_options do not. Throws std::invalid_argument
  // with a user-facing message on an unknown option or a missing value.
  CliArgs(const std::vector<std::string>& args, std::set<std::string> value_options,
          std::set<std::string> flag_options = {});

  std::optional<std::string> get(const std::string& name) const;
  std::string get_or(const std::string& name, const std::string& fallback) const;
  bool flag(const std::string& name) const;
  const std::vector<std::string>& positionals() const { return positionals_; }

 private:
  std::map<std::string, std::string> values_;
  std::set<std::string> flags_;
  std::vector<std::string> positionals_;
};

}  // namespace warden
