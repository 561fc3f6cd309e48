#pragma once
// Where a value came from in the YAML, and one problem found there. Kept in the parsed
// structs so later checks (router, policy, reload) can point the operator at the line.
#include <string>

namespace warden::config {

struct Position {
  int line = 0;  // 1-based; 0 = unknown
  int col = 0;   // 1-based
};

struct Diagnostic {
  std::string file;
  int line = 0;
  int col = 0;
  std::string message;  // never contains a value read from the environment
  // "file:line:col: message"
  std::string to_string() const;
};

}  // namespace warden::config
