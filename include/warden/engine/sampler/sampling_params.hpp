#pragma once
// Per-request sampling settings (OpenAI/DeepSeek request fields mapped by the caller).
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace warden::engine::sampler {

struct SamplingParams {
  float temperature = 1.0f;  // <= 1e-5 → greedy (argmax, lowest id on ties)
  float top_p = 1.0f;        // nucleus mass kept, (0, 1]
  int32_t top_k = 0;         // <= 0 → off
  float presence_penalty = 0.0f;   // subtracted once from every token already generated
  float frequency_penalty = 0.0f;  // subtracted per occurrence in the generated tokens
  // vLLM / HF semantics: a token seen in the prompt or the output has a positive logit
  // divided by it, a negative one multiplied (1 = off).
  float repetition_penalty = 1.0f;
  // After temperature: tokens less likely than min_p × the most likely one are dropped (0 = off).
  float min_p = 0.0f;
  // OpenAI logit_bias: (token id, bias in [-100, 100]) added to the logit before anything else.
  std::vector<std::pair<int32_t, float>> logit_bias;
  // EOS and stop_token_ids cannot be sampled before this many tokens are generated.
  int32_t min_tokens = 0;
  // Filled by the engine when min_tokens > 0: the ids min_tokens holds back (the model's
  // EOS ids unless ignore_eos, and stop_token_ids).
  std::vector<int32_t> min_tokens_suppressed;
  std::optional<uint64_t> seed;    // fixed → the same tokens for the same prompt, any batch
  int32_t max_tokens = 256;
  std::vector<std::string> stop;        // stop strings, matched on the detokenized text
  std::vector<int32_t> stop_token_ids;  // in addition to the model's EOS ids
  bool ignore_eos = false;
  // Log-probabilities: -1 off; 0 only the sampled token's; N also the N most likely.
  int32_t logprobs = -1;

  // True when a row with these settings must be sampled on the host (the device sampler
  // does temperature, top-k and top-p only): `generated` tokens so far.
  bool needs_host_logits(int64_t generated) const {
    return presence_penalty != 0.0f || frequency_penalty != 0.0f || repetition_penalty != 1.0f || min_p > 0.0f ||
           !logit_bias.empty() || logprobs >= 0 || generated < min_tokens;
  }
};

}  // namespace warden::engine::sampler
