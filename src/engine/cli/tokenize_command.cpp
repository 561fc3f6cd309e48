// Placeholder: replaced by the module that owns this verb.
#include <cstdio>

#include "warden/cli/commands.hpp"

namespace warden::cli {

int tokenize(const Args&) {
  std::fprintf(stderr, "warden tokenize: not implemented yet\n");
  return 2;
}

}  // namespace warden::cli
