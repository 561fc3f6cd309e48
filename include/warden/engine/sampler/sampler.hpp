#pragma once
// Picks the next token of one sequence from its logits row. The random stream and the
// penalty counts live in the sequence's SamplerState, so the choice depends only on the
// request (its seed and its own tokens), never on which other requests share the batch.
// Thread-compatible: one SamplerState per sequence; sample() keeps no other state.
#include <cstdint>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

#include "warden/engine/sampler/sampling_params.hpp"

namespace warden::engine::sampler {

// xoshiro256** seeded through splitmix64: portable (same numbers on every platform and
// standard library, unlike std::uniform_real_distribution).
class Rng {
 public:
  explicit Rng(uint64_t seed = 0);
  uint64_t next();
  double uniform();  // [0, 1) with 53 random bits

 private:
  uint64_t s_[4];
};

struct SamplerState {
  explicit SamplerState(uint64_t seed) : rng(seed) {}
  Rng rng;
  std::unordered_map<int32_t, int32_t> output_counts;  // generated token → occurrences
  std::vector<int32_t> prompt_tokens;  // distinct prompt ids (repetition_penalty only)
  int64_t generated = 0;
  void observe(int32_t token) {
    ++output_counts[token];
    ++generated;
  }
};

struct TokenLogprob {
  int32_t token = 0;
  float logprob = 0.0f;
};

struct SampleResult {
  int32_t token = 0;
  float logprob = 0.0f;            // of `token` under the model's distribution (raw logits)
  std::vector<TokenLogprob> top;   // the params.logprobs most likely tokens, best first
};

// `logits` is one row of vocab_size floats; it is used as scratch (penalties applied in place).
SampleResult sample(std::span<float> logits, const SamplingParams& params, SamplerState& state);

// Log-softmax helpers, exposed for tests.
float log_sum_exp(std::span<const float> x);

}  // namespace warden::engine::sampler
