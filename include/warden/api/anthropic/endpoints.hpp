#pragma once
// Anthropic Messages endpoints: POST /anthropic/v1/messages and
// /anthropic/v1/messages/count_tokens, also without the /anthropic prefix (/v1/messages),
// so both ANTHROPIC_BASE_URL=http://host/anthropic and =http://host work.
#include <string_view>

#include "warden/api/chat_request.hpp"
#include "warden/server/endpoint_table.hpp"

namespace warden::api::anthropic {

void register_endpoints(server::EndpointTable& table);

// The estimator's count of a prompt (policy::measure_prompt: ~4 bytes a token, one per
// CJK character, plus per-message framing). count_tokens answers with the exact count
// instead when the alias serves a local model whose tokenizer.json loads.
int64_t count_tokens_estimate(const ChatRequest& req);

}  // namespace warden::api::anthropic
