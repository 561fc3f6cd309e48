#pragma once
// `warden model make-tiny`: a model folder with real HF config.json field names,
// seeded random weights (safetensors), generation_config.json and tokenizer files.
// Speed does not depend on weight values, and correctness is checked against an
// independent reference on the same random weights, so these stand in for real
// checkpoints, which cannot be downloaded here.
#include <cstdint>
#include <optional>
#include <string>

#include "warden/engine/model/model_config.hpp"
#include "warden/engine/weights/dtype.hpp"

namespace warden::engine {

struct TinyModelOptions {
  std::string arch = "qwen2";  // qwen2 | llama | deepseek-moe (GQA) | deepseek-v2 | deepseek-v3 (MLA) | qwen2-moe
  // "" (tiny), "bench-100m" (~100M-parameter Qwen2 shape with the Qwen vocabulary),
  // "r1-distill-qwen-1.5b" / "r1-distill-llama-8b" / "deepseek-v2-lite" (the exact
  // published configs).
  std::string preset;
  std::string config_file;     // start from this config.json instead of arch/preset
  std::string out_dir;
  uint64_t seed = 0;
  std::string vocab = "qwen";  // qwen | deepseek | tiny | none (no tokenizer files)
  DType dtype = DType::BF16;
  size_t max_shard_bytes = 0;  // > 0: split into shards with model.safetensors.index.json
  std::string qwen_tokenizer_json;  // npm Qwen tokenizer.json; found automatically when empty
  // noaux_tc routers (DeepSeek-V3): e_score_correction_bias 0.25 apart instead of random,
  // so every token picks the same groups and experts by a wide margin. Random routers
  // score experts within bf16 rounding of each other, and top-k then flips between two
  // bf16 paths (seen on an H200); a comparison of the math wants no such ties.
  bool decisive_routing = false;
  // Shape overrides (applied last).
  std::optional<int32_t> hidden, layers, heads, kv_heads, head_dim, intermediate, vocab_size;
  std::optional<int32_t> experts, top_k, shared_experts, moe_intermediate, first_dense;
  std::optional<bool> tie;
};

// The config make-tiny would write for these options (no files touched).
ModelConfig tiny_model_config(const TinyModelOptions& options);

// Writes the model folder. Returns its config. Throws std::runtime_error on failure.
ModelConfig write_tiny_model(const TinyModelOptions& options);

// Deterministic init values for tensor `name` (independent of write order and sharding).
void fill_random_tensor(uint64_t seed, const std::string& name, float* dst, size_t count, float scale, float offset);

}  // namespace warden::engine
