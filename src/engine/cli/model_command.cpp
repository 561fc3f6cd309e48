// Placeholder: replaced by the module that owns this verb.
#include <cstdio>

#include "warden/cli/commands.hpp"

namespace warden::cli {

int model(const Args&) {
  std::fprintf(stderr, "warden model: not implemented yet\n");
  return 2;
}

}  // namespace warden::cli
