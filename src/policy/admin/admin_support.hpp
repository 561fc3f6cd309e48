#pragma once
// Shared by the policy admin endpoints: error answers in the admin API's shape, the audit
// record of a mutation, and small JSON writers.
#include <spdlog/spdlog.h>

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "warden/common/json_quote.hpp"
#include "warden/config/config.hpp"
#include "warden/policy/runtime.hpp"
#include "warden/server/endpoint_table.hpp"
#include "warden/server/exchange.hpp"
#include "warden/telemetry/audit/audit_log.hpp"

namespace warden::policy::admin {

namespace asio = boost::asio;

// {"error":{"message","type","param":null,"code"}} — what the server answers for a bad
// admin token or an unknown path, so clients parse one shape.
inline std::string error_json(int status, std::string_view code, std::string_view message) {
  const char* type = status == 401 ? "authentication_error"
                     : status == 404 ? "not_found_error"
                     : status >= 500 ? "server_error"
                                     : "invalid_request_error";
  std::string out = R"({"error":{"message":)";
  append_json_quoted(out, message);
  out += R"(,"type":")";
  out += type;
  out += R"(","param":null,"code":)";
  append_json_quoted(out, code);
  out += "}}";
  return out;
}

// One audit record per admin mutation (audit.file set): what was done to which key, with
// the outcome. Never the key, its hash or the request body.
inline void audit_admin(const config::Config& cfg, const server::Exchange& ex, std::string action,
                        std::string key_id, std::string team, int status) {
  auto* log = Runtime::for_config(cfg).audit(cfg);
  if (!log) return;
  telemetry::AuditEvent ev;
  ev.type = "admin";
  ev.action = std::move(action);
  ev.request_id = ex.request_id();
  ev.key_id = std::move(key_id);
  ev.team = std::move(team);
  ev.status = status;
  log->append(std::move(ev));
}

inline void append_limits(std::string& out, const config::RateLimits& l) {
  out += R"({"rpm":)" + std::to_string(l.rpm) + R"(,"tpm":)" + std::to_string(l.tpm) +
         R"(,"concurrency":)" + std::to_string(l.concurrency) + '}';
}

inline void append_string_array(std::string& out, const std::vector<std::string>& items) {
  out += '[';
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    append_json_quoted(out, items[i]);
  }
  out += ']';
}

// JSON number for a ratio or an amount of USD: shortest text that reads back exactly.
std::string json_number(double v);

void register_keys(server::EndpointTable& admin);
void register_teams(server::EndpointTable& admin);

}  // namespace warden::policy::admin
