#pragma once
// The policy chain's refusals, one constructor per stable `code` so every filter answers
// the same shape (status, code, type) for the same reason.
#include <string>

#include "warden/common/error.hpp"

namespace warden::policy::errors {

inline Error invalid_api_key(std::string message = "Invalid API key provided.") {
  return Error{401, "invalid_api_key", std::move(message), "authentication_error", ""};
}
inline Error model_not_allowed(const std::string& alias) {
  return Error{403, "model_not_allowed",
               "This key may not use model '" + alias + "'.", "permission_error", "model"};
}
// A key whose team is not (or no longer) in the config: refused, never unrestricted.
inline Error team_not_configured(const std::string& team) {
  return Error{403, "team_not_configured",
               "This key belongs to team '" + team + "', which is not defined in the gateway configuration.",
               "permission_error", ""};
}
// A policy component that cannot decide (bad pattern, store down, tokenizer missing):
// the request is refused rather than let through unchecked.
inline Error policy_unavailable(std::string code, std::string message) {
  return Error{503, std::move(code), std::move(message), "server_error", ""};
}
inline Error tokenizer_unavailable(const std::string& why) {
  return policy_unavailable("tokenizer_unavailable", "Prompt tokens cannot be counted: " + why + ".");
}
inline Error rate_limit_exceeded(std::string message) {
  return Error{429, "rate_limit_exceeded", std::move(message), "rate_limit_error", ""};
}
inline Error budget_exceeded(std::string message) {
  return Error{402, "budget_exceeded", std::move(message), "insufficient_quota", ""};
}
inline Error dlp_blocked(const std::string& detector, const std::string& where = "request") {
  return Error{400, "dlp_blocked",
               "The " + where + " was blocked by data-loss prevention: detector '" + detector + "'.",
               "invalid_request_error", ""};
}
inline Error model_disabled(const std::string& alias) {
  return Error{503, "model_disabled", "Model '" + alias + "' is disabled by the operator.",
               "server_error", "model"};
}
inline Error content_blocked(std::string message, std::string where = "request") {
  return Error{400, "content_blocked", std::move(message), "invalid_request_error", ""};
}
inline Error tool_not_allowed(const std::string& tool) {
  return Error{400, "tool_not_allowed", "Tool '" + tool + "' is not allowed for this key.",
               "invalid_request_error", "tools"};
}
inline Error prompt_too_large(std::string message) {
  return Error{400, "prompt_too_large", std::move(message), "invalid_request_error", "messages"};
}
inline Error max_tokens_exceeded(std::string message) {
  return Error{400, "max_tokens_exceeded", std::move(message), "invalid_request_error",
               "max_tokens"};
}

}  // namespace warden::policy::errors
