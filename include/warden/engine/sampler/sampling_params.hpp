#pragma once
// Per-request sampling settings (OpenAI/DeepSeek request fields mapped by the caller).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace warden::engine::sampler {

struct SamplingParams {
  float temperature = 1.0f;  // <= 1e-5 → greedy (argmax, lowest id on ties)
  float top_p = 1.0f;        // nucleus mass kept, (0, 1]
  int32_t top_k = 0;         // <= 0 → off
  float presence_penalty = 0.0f;   // subtracted once from every token already generated
  float frequency_penalty = 0.0f;  // subtracted per occurrence in the generated tokens
  std::optional<uint64_t> seed;    // fixed → the same tokens for the same prompt, any batch
  int32_t max_tokens = 256;
  std::vector<std::string> stop;        // stop strings, matched on the detokenized text
  std::vector<int32_t> stop_token_ids;  // in addition to the model's EOS ids
  bool ignore_eos = false;
  // Log-probabilities: -1 off; 0 only the sampled token's; N also the N most likely.
  int32_t logprobs = -1;
};

}  // namespace warden::engine::sampler
