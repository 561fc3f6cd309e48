#pragma once
// The engine's per-token log-probabilities as OpenAI `logprobs.content` entries.
#include <string>
#include <vector>

#include "warden/engine/engine.hpp"

namespace warden::providers::local {

// {"token","logprob","bytes","top_logprobs":[...]} per token, joined by commas (the
// StreamEvent::logprobs form). `token` is the token's decoded text (a byte that is part
// of an unfinished UTF-8 character shows as U+FFFD there; `bytes` keeps it exact).
std::string logprob_entries(const std::vector<engine::TokenLogprobs>& tokens, const engine::Tokenizer* tokenizer);

}  // namespace warden::providers::local
