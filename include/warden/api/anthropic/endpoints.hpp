#pragma once
// Anthropic Messages endpoints: POST /anthropic/v1/messages and
// /anthropic/v1/messages/count_tokens, also without the /anthropic prefix (/v1/messages),
// so both ANTHROPIC_BASE_URL=http://host/anthropic and =http://host work.
#include <string_view>

#include "warden/api/chat_request.hpp"
#include "warden/server/endpoint_table.hpp"

namespace warden::api::anthropic {

void register_endpoints(server::EndpointTable& table);

// count_tokens' answer: an estimate of the prompt's tokens (text bytes / 4, rounded up,
// over system, messages, tool results and tool definitions). warden does not know the
// target's tokenizer before routing; the estimate is what the router's size rules use too.
int64_t count_tokens_estimate(const ChatRequest& req);

}  // namespace warden::api::anthropic
