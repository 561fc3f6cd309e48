// Placeholder: replaced by the module that owns this verb.
#include <cstdio>

#include "warden/cli/commands.hpp"

namespace warden::cli {

int keys(const Args&) {
  std::fprintf(stderr, "warden keys: not implemented yet\n");
  return 2;
}

}  // namespace warden::cli
