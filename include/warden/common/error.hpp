#pragma once
// The one error type of the request path. Encoders turn it into the caller's wire
// shape (OpenAI or Anthropic); `code` is stable and documented for operators.
#include <string>

namespace warden {

struct Error {
  int http_status = 500;
  std::string code;     // stable: invalid_api_key, model_not_allowed, rate_limit_exceeded, ...
  std::string message;  // human readable; never contains secrets or prompt text
  std::string type;     // OpenAI error.type (invalid_request_error, server_error, ...); empty = derived
  std::string param;    // OpenAI error.param, empty = null
};

}  // namespace warden
