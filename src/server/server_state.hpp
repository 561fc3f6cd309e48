#pragma once
// State shared by the listeners and sessions of one Server (internal to src/server).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <vector>

#include "warden/config/config.hpp"
#include "warden/server/endpoint_table.hpp"

namespace boost::asio {
class io_context;
}

namespace warden::server {

// One registered live connection; touched only on its worker's thread.
struct SessionHandle {
  bool busy = false;             // a request is being read or handled
  std::function<void()> close;   // closes the socket (aborts pending I/O)
};

struct Worker {
  boost::asio::io_context* ioc = nullptr;
  std::list<SessionHandle*> sessions;  // worker-thread only
};

struct ReloadStatus {
  std::string at;      // ISO-8601 UTC of the last attempt ("" = never)
  bool ok = true;
  std::string trigger;  // sighup | file_change
  std::vector<std::string> errors;  // file:line:col: message
};

struct Listener {
  enum class Kind { Main, Admin } kind = Kind::Main;
  const EndpointTable* table = nullptr;
  std::atomic<int64_t> connections{0};
  bool tls = false;
};

struct ServerState {
  config::ConfigStore* store = nullptr;
  std::string config_path;
  std::atomic<bool> draining{false};
  std::atomic<int64_t> in_flight{0};  // requests being handled, both listeners

  std::mutex reload_mu;  // control plane only
  ReloadStatus last_reload;
  std::string listen_address;        // real address of the main listener
  std::string admin_listen_address;  // "" when none
  std::chrono::system_clock::time_point started_at = std::chrono::system_clock::now();
};

std::string iso8601_utc(std::chrono::system_clock::time_point t);

}  // namespace warden::server
