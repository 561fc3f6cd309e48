#include "errors.hpp"

#include "warden/common/json_quote.hpp"

#include <cstdio>

namespace warden::server {

bool is_anthropic_path(std::string_view path) {
  return path.rfind("/anthropic/", 0) == 0 || path.rfind("/v1/messages", 0) == 0;
}

void append_json_string(std::string& out, std::string_view s) { append_json_quoted(out, s); }

namespace {

const char* openai_type(int status) {
  switch (status) {
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 429: return "rate_limit_error";
    default: return status >= 500 ? "server_error" : "invalid_request_error";
  }
}

const char* anthropic_type(int status) {
  switch (status) {
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 413: return "request_too_large";
    case 429: return "rate_limit_error";
    case 503: return "overloaded_error";
    default: return status >= 500 ? "api_error" : "invalid_request_error";
  }
}

}  // namespace

std::string error_body(std::string_view path, int status, std::string_view code, std::string_view message) {
  std::string out;
  out.reserve(128 + message.size());
  if (is_anthropic_path(path)) {
    out += R"({"type":"error","error":{"type":")";
    out += anthropic_type(status);
    out += R"(","message":)";
    append_json_string(out, message);
    out += "}}";
    return out;
  }
  out += R"({"error":{"message":)";
  append_json_string(out, message);
  out += R"(,"type":")";
  out += openai_type(status);
  out += R"(","param":null,"code":)";
  append_json_string(out, code);
  out += "}}";
  return out;
}

}  // namespace warden::server
