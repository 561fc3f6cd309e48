#pragma once
// What the embedded engine cannot honour of a chat request. A caller must never believe a
// constraint was applied when it was not (a schema, n choices, a forced tool call), so
// the local provider refuses such a request with 400 unsupported_parameter naming the
// parameter instead of answering without it.
#include <optional>
#include <string>

#include "warden/api/chat_request.hpp"

namespace warden::providers::local {

struct Unsupported {
  std::string param;   // the wire name, e.g. "response_format"
  std::string reason;  // one sentence for the caller
};

// The first parameter the engine cannot honour, if any. Accepted: sampling (temperature,
// top_p, top_k, presence/frequency penalties, seed), max_tokens, stop, logprobs,
// tools with tool_choice auto|none, response_format text, thinking (thinking_control.hpp), n = 1, the
// sampling extensions (sampling_extensions.hpp), and fields that change nothing about the answer (metadata, store, service_tier,
// safety_identifier, prompt_cache_key, stream_options, user).
std::optional<Unsupported> unsupported_parameter(const api::ChatRequest& req);

}  // namespace warden::providers::local
