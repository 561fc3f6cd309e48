#pragma once
// OpenAI chat.completions request body → canonical ChatRequest (wire-formats.md §2).
// Fields warden does not model (top level and per message) are kept as their exact
// bytes in `extra` so they reach OpenAI-compatible upstreams untouched. Thread-safe.
#include <string_view>

#include "warden/api/chat_request.hpp"
#include "warden/common/result.hpp"

namespace warden::api::openai {

// Errors: 400, type invalid_request_error, code invalid_json | invalid_type |
// missing_required_parameter | invalid_value, `param` names the field (e.g. messages[1].role).
Result<ChatRequest> decode_chat_request(std::string_view body);

}  // namespace warden::api::openai
