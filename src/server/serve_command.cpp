// `warden serve -c FILE [--listen HOST:PORT]`.
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>
#include <memory>

#include <unistd.h>

#include "logging.hpp"
#include "ui/ui.hpp"
#include "warden/config/watch.hpp"
#include "warden/policy/runtime.hpp"
#include "warden/api/endpoints.hpp"
#include "warden/cli/commands.hpp"
#include "warden/common/cli_args.hpp"
#include "warden/server/admin.hpp"
#include "warden/server/server.hpp"
#include "warden/telemetry/telemetry.hpp"

namespace warden::cli {

int serve(const Args& args) {
  Args normalized;
  for (const auto& a : args) normalized.push_back(a == "-c" ? "--config" : a);
  CliArgs cli(normalized, {"config", "listen"}, {"no-watch"});
  auto path = cli.get("config");
  if (!path || !cli.positionals().empty()) {
    std::fprintf(stderr, "usage: warden serve -c FILE [--listen HOST:PORT] [--no-watch]\n");
    return 2;
  }
  server::ServerOptions options;
  options.config_path = *path;
  options.watch_config_file = !cli.flag("no-watch");
  if (auto listen = cli.get("listen")) {
    std::string error;
    auto hp = config::parse_host_port(*listen, &error);
    if (!hp) {
      std::fprintf(stderr, "warden serve: --listen %s: %s\n", listen->c_str(), error.c_str());
      return 2;
    }
    options.listen_override = *hp;
  }

  auto loaded = config::load_config(options.config_path);
  if (!loaded.ok()) {
    for (const auto& d : loaded.diagnostics) std::fprintf(stderr, "%s\n", d.to_string().c_str());
    return 1;
  }
  // One server per state_dir (audit chain, budgets): a second one exits here, clearly.
  std::string lock_error;
  auto state_lock = policy::lock_state_dir(loaded.config->state_dir, &lock_error);
  if (!state_lock) {
    std::fprintf(stderr, "warden serve: %s\n", lock_error.c_str());
    return 1;
  }
  loaded.config->generation = 1;
  if (options.listen_override) loaded.config->server.listen = *options.listen_override;

  server::init_logging();
  auto telemetry_runtime = telemetry::Runtime::start(*loaded.config);  // ledger + traces; flushed when serve returns
  telemetry::register_admin_endpoints(server::admin_endpoints());
  server::EndpointTable table;
  api::register_endpoints(table);
  server::ui::register_ui(server::admin_endpoints());  // GET /ui dashboard
  // File saves → inotify → the SIGHUP reload path (one parse/validate/swap for both).
  // SIGHUP is ignored until the server's signal handler takes over, so an early save
  // cannot kill the process; the polling watcher stays as the fallback without inotify.
  std::unique_ptr<config::FileWatcher> watcher;
  if (options.watch_config_file) {
    std::signal(SIGHUP, SIG_IGN);
    std::string why;
    watcher = std::make_unique<config::FileWatcher>(options.config_path, [] {
      struct sigaction current {};
      if (::sigaction(SIGHUP, nullptr, &current) == 0 && current.sa_handler != SIG_DFL) ::kill(::getpid(), SIGHUP);
    }, std::chrono::milliseconds(150), &why);
    if (watcher->active()) options.watch_config_file = false;
    else spdlog::warn("config file watch (inotify) unavailable: {}; polling instead", why);
  }
  server::Server srv(options, loaded.config, std::move(table), server::admin_endpoints());
  return srv.run();
}

}  // namespace warden::cli
