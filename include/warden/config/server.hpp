#pragma once
// `server:` — listeners, threads, limits, TLS, access log.
#include <cstdint>
#include <optional>
#include <string>

#include "warden/config/position.hpp"

namespace warden::config {

struct HostPort {
  std::string host;  // as written, without [] for IPv6
  uint16_t port = 0;
  std::string to_string() const;  // "host:port" ("[v6]:port")
};

struct ServerLimits {
  int64_t max_body_bytes = 4 * 1024 * 1024;
  int64_t max_header_bytes = 64 * 1024;
  int64_t header_timeout_ms = 10'000;  // whole request head must arrive within this
  int64_t body_timeout_ms = 60'000;    // whole request body must arrive within this
  int64_t idle_timeout_ms = 60'000;    // keep-alive: time allowed between requests
  int64_t max_connections = 10'000;    // per listener; further accepts wait
  int64_t drain_timeout_ms = 30'000;   // SIGTERM: in-flight requests get this long
};

struct TlsConfig {
  std::string cert;  // PEM file (chain)
  std::string key;   // PEM file
};

enum class AccessLogFormat { Text, Json };

struct AccessLogConfig {
  bool enabled = true;
  AccessLogFormat format = AccessLogFormat::Text;
};

struct ServerConfig {
  HostPort listen{"127.0.0.1", 8080};
  std::optional<HostPort> admin_listen;
  std::string admin_token;  // required when admin_listen is set; secret
  int threads = 0;          // 0 = one per core
  ServerLimits limits;
  std::optional<TlsConfig> tls;  // when set, `listen` speaks TLS
  std::optional<TlsConfig> admin_tls;  // when set, `admin_listen` speaks TLS (`main`: the same as tls)
  AccessLogConfig access_log;
  Position pos;
};

}  // namespace warden::config
