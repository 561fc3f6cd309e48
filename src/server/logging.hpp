#pragma once
// spdlog set-up for `serve`: operational log lines on stderr, access log lines on stdout.
#include <string_view>

#include "warden/config/server.hpp"
#include "warden/server/exchange.hpp"

namespace warden::server {

void init_logging();

struct AccessRecord {
  std::string_view listener;  // "main" | "admin"
  std::string_view request_id;
  std::string_view method;
  std::string_view path;  // without the query (queries may carry secrets)
  std::string_view peer;
  int status = 0;
  double latency_ms = 0;
  const AccessLog* fields = nullptr;
  bool client_gone = false;
};

// One line per request; never keys, never bodies.
void write_access_log(const config::AccessLogConfig& cfg, const AccessRecord& r);

}  // namespace warden::server
