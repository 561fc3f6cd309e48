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

struct Listener;

// One registered live connection; `busy` and `close` are touched only on its worker's thread.
struct SessionHandle {
  bool busy = false;             // a request is being read or handled
  std::function<void()> close;   // closes the socket (aborts pending I/O)
  const Listener* listener = nullptr;
  // Steady-clock nanoseconds since which the connection has waited for its next request
  // (keep-alive idle, or a fresh connection that sent nothing yet); -1 while a request is
  // read or handled, or once an evictor claimed it. Written by the session, claimed (CAS)
  // by the evictor under Worker::mu.
  std::atomic<int64_t> idle_since{-1};
};

struct Worker {
  boost::asio::io_context* ioc = nullptr;
  // Guards `sessions` (changed on the worker thread at connection start/end; scanned by
  // the evictor from another thread).
  std::mutex mu;
  std::list<SessionHandle*> sessions;
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
  std::atomic<int64_t> connections{0};  // every open connection (admitted + overflow)
  std::atomic<int64_t> admitted{0};     // connections holding one of max_connections' slots
  // Connections accepted past max_connections (at most kHealthReserve): they answer /healthz
  // and /readyz at once; any other request waits there for a slot (try_admit), evicting the
  // longest-idle admitted keep-alive connection to get one.
  std::atomic<int64_t> overflow{0};
  bool tls = false;

  // Takes a slot for an overflow connection if one is free. Thread-safe.
  bool try_admit(int64_t max_connections) {
    int64_t cur = admitted.load(std::memory_order_relaxed);
    while (cur < max_connections)
      if (admitted.compare_exchange_weak(cur, cur + 1, std::memory_order_relaxed)) {
        overflow.fetch_sub(1, std::memory_order_relaxed);
        return true;
      }
    return false;
  }
};

inline constexpr int64_t kHealthReserve = 16;

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
  // Closes the longest-idle connection of `listener` (one waiting for its next request), if
  // any: true when one was claimed. Thread-safe; set by the Server.
  std::function<bool(const Listener&)> evict_idle;
};

std::string iso8601_utc(std::chrono::system_clock::time_point t);

}  // namespace warden::server
