// `warden check FILE`: every problem as file:line:col: message (exit 1), or `ok` (exit 0).
#include <cstdio>

#include "warden/cli/commands.hpp"
#include "warden/common/cli_args.hpp"
#include "warden/config/config.hpp"

namespace warden::cli {

int check(const Args& args) {
  CliArgs cli(args, {}, {});
  if (cli.positionals().size() != 1) {
    std::fprintf(stderr, "usage: warden check FILE\n");
    return 2;
  }
  auto result = config::load_config(cli.positionals()[0]);
  if (!result.ok()) {
    for (const auto& d : result.diagnostics) std::fprintf(stderr, "%s\n", d.to_string().c_str());
    std::fprintf(stderr, "%zu error%s\n", result.diagnostics.size(), result.diagnostics.size() == 1 ? "" : "s");
    return 1;
  }
  std::printf("ok\n");
  return 0;
}

}  // namespace warden::cli
