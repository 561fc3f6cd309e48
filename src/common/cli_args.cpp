#include "warden/common/cli_args.hpp"

#include <stdexcept>

namespace warden {

CliArgs::CliArgs(const std::vector<std::string>& args, std::set<std::string> value_options,
                 std::set<std::string> flag_options) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.size() < 3 || a.rfind("--", 0) != 0) {
      positionals_.push_back(a);
      continue;
    }
    std::string name = a.substr(2);
    std::optional<std::string> inline_value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (flag_options.count(name)) {
      if (inline_value) throw std::invalid_argument("option --" + name + " takes no value");
      flags_.insert(name);
    } else if (value_options.count(name)) {
      if (inline_value) {
        values_[name] = *inline_value;
      } else {
        if (i + 1 >= args.size()) throw std::invalid_argument("option --" + name + " needs a value");
        values_[name] = args[++i];
      }
    } else {
      throw std::invalid_argument("unknown option --" + name);
    }
  }
}

std::optional<std::string> CliArgs::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string CliArgs::get_or(const std::string& name, const std::string& fallback) const {
  return get(name).value_or(fallback);
}

bool CliArgs::flag(const std::string& name) const { return flags_.count(name) > 0; }

}  // namespace warden
