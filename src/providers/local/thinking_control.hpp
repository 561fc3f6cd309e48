#pragma once
// The request's `thinking` object (DeepSeek's and Anthropic's wire: {type: enabled |
// disabled, budget_tokens}) for the R1-distill chat template, whose generation prompt
// opens `<think>`: disabled closes the block at once (the template's empty-thinking
// form), a budget makes the engine close it after that many thinking tokens.
#include <optional>
#include <string>

#include "warden/api/chat_request.hpp"
#include "warden/common/error.hpp"

namespace warden::providers::local {

struct ThinkingControl {
  bool disabled = false;
  std::optional<int32_t> budget_tokens;
};

// Absent → enabled, no budget. A malformed object or budget is a 400 naming `thinking`.
std::optional<ThinkingControl> parse_thinking(const api::ChatRequest& req, Error& error);

}  // namespace warden::providers::local
