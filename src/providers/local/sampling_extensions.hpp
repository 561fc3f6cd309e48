#pragma once
// Sampling parameters beyond OpenAI's modelled fields, read from a chat request's extra
// (unmodelled) fields into the engine's SamplingParams: OpenAI's logit_bias and vLLM's
// min_p, repetition_penalty, min_tokens, ignore_eos and stop_token_ids. A value the
// engine cannot take is a 400 naming the parameter, never dropped.
#include <array>
#include <optional>
#include <string_view>

#include "warden/api/chat_request.hpp"
#include "warden/common/error.hpp"
#include "warden/engine/sampler/sampling_params.hpp"

namespace warden::providers::local {

inline constexpr std::array<std::string_view, 6> kSamplingExtensions = {
    "logit_bias", "min_p", "repetition_penalty", "min_tokens", "ignore_eos", "stop_token_ids"};

// Sets the extensions present in `req` on `s` (whose max_tokens is already set), checking
// token ids against `vocab`. Returns the 400 to answer when one is invalid.
std::optional<Error> apply_sampling_extensions(const api::ChatRequest& req, int32_t vocab,
                                               engine::sampler::SamplingParams& s);

}  // namespace warden::providers::local
