#pragma once
// The HTTP server: listeners (plain or TLS, and the admin listener), N I/O threads,
// SIGTERM/SIGINT drain, SIGHUP (and file-change) reload. Beast-free so callers compile fast.
#include <memory>
#include <optional>
#include <string>

#include "warden/config/config.hpp"
#include "warden/server/endpoint_table.hpp"

namespace warden::server {

struct ServerOptions {
  std::string config_path;                       // re-read on SIGHUP / change
  std::optional<config::HostPort> listen_override;  // --listen
  bool watch_config_file = true;                 // reload when the file's mtime/size changes
};

class Server {
 public:
  // `table`: main-listener endpoints; `admin`: admin-listener endpoints (bearer-checked).
  Server(ServerOptions options, std::shared_ptr<const config::Config> initial, EndpointTable table,
         EndpointTable admin);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds, logs `listening on HOST:PORT`, serves until drained. Returns the exit code
  // (0 after a signal-initiated drain, 1 when a listener cannot bind).
  int run();

  config::ConfigStore& store();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace warden::server
