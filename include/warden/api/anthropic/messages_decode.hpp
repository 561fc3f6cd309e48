#pragma once
// Anthropic Messages request body → canonical ChatRequest (wire-formats.md §3–4).
// Thread-safe.
//   system (string | text blocks)       → leading system message
//   user text / image blocks            → user message parts (images as OpenAI image_url parts)
//   user tool_result blocks             → one `tool` message each (is_error → tool_error), before the user's text
//   assistant thinking / text / tool_use → reasoning_content (+signature), content, tool_calls
//   tools[].input_schema                → parameters; tool_choice auto|any|tool|none → auto|required|function|none
//   stop_sequences → stop; metadata.user_id → user; thinking → thinking_json (raw)
// Unknown top-level fields are dropped: they mean nothing to an OpenAI-format upstream.
#include <string_view>

#include "warden/api/chat_request.hpp"
#include "warden/common/result.hpp"

namespace warden::api::anthropic {

// Errors: 400 invalid_request_error with a message naming the field. count_tokens bodies
// have no max_tokens: pass require_max_tokens = false.
Result<ChatRequest> decode_messages_request(std::string_view body, bool require_max_tokens = true);

// Anthropic image block source → OpenAI image_url part JSON ({"type":"image_url",...}),
// so an OpenAI-format upstream understands it. Empty when the source is unusable.
std::string image_block_to_openai(std::string_view block_json);

}  // namespace warden::api::anthropic
