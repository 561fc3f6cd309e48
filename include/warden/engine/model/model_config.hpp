#pragma once
// A decoder-only model described as data, read from a Hugging Face config.json
// with its real field names. Supported families:
//  - Qwen2ForCausalLM (QKV bias, no O bias) — DeepSeek-R1-Distill-Qwen.
//  - LlamaForCausalLM (no biases, optional rope_scaling llama3) — R1-Distill-Llama.
//  - DeepseekV2ForCausalLM / DeepseekV3ForCausalLM: the DeepSeek-MoE FFN (routed +
//    shared experts, first_k_dense_replace, softmax/sigmoid scoring, norm_topk_prob,
//    routed_scaling_factor, greedy / group_limited_greedy / noaux_tc routing) with either
//      * MLA attention when kv_lora_rank is set (DeepSeek-V2/V3: q_lora_rank optional,
//        yarn rope scaling; the KV cache holds the decompressed per-head K and V, not
//        the latent), as `make-tiny --arch deepseek-v2` writes, or
//      * standard GQA attention (q_proj/k_proj/v_proj/o_proj, num_key_value_heads) when
//        kv_lora_rank is null — a DeepSeek-MoE-style model that no HF class loads as is;
//        `make-tiny --arch deepseek-moe` writes this one.
//  - Qwen2MoeForCausalLM (num_experts, shared_expert with a sigmoid gate).
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "warden/engine/model/spelled_enum.hpp"

namespace warden::engine {

enum class ModelFamily { Qwen2, Llama, DeepseekMoe, Qwen2Moe };

struct RopeScaling {
  std::string type = "default";  // "default", "llama3", or "yarn" (DeepSeek MLA only)
  double factor = 1.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  int64_t original_max_position_embeddings = 8192;
  // yarn (DeepSeek-V2/V3 modeling code)
  double beta_fast = 32.0;
  double beta_slow = 1.0;
  double mscale = 1.0;
  double mscale_all_dim = 0.0;
};

// Multi-head latent attention (DeepSeek-V2/V3).
struct MlaConfig {
  bool enabled = false;
  int32_t q_lora_rank = 0;  // 0: plain q_proj (V2-Lite)
  int32_t kv_lora_rank = 0;
  int32_t qk_nope_head_dim = 0;
  int32_t qk_rope_head_dim = 0;
  int32_t v_head_dim = 0;
  int32_t q_head_dim() const { return qk_nope_head_dim + qk_rope_head_dim; }
};

// scoring_func: how router logits become expert scores.
enum class MoeScoringKind : uint8_t { Softmax, Sigmoid };
struct MoeScoringNames {
  static constexpr std::array<std::string_view, 2> names{"softmax", "sigmoid"};
};
using MoeScoring = SpelledEnum<MoeScoringKind, MoeScoringNames>;

// topk_method: "greedy"; "group_limited_greedy" (DeepSeek-V2: best topk_group of n_group
// expert groups by their max score); "noaux_tc" (DeepSeek-V3: scores plus
// mlp.gate.e_score_correction_bias choose, groups ranked by their top-2 sum, weights
// from the unbiased scores).
enum class MoeTopkKind : uint8_t { Greedy, GroupLimitedGreedy, NoauxTc };
struct MoeTopkNames {
  static constexpr std::array<std::string_view, 3> names{"greedy", "group_limited_greedy", "noaux_tc"};
};
using MoeTopkMethod = SpelledEnum<MoeTopkKind, MoeTopkNames>;

struct MoeConfig {
  int32_t num_experts = 0;             // routed experts; 0 = dense model
  int32_t top_k = 0;                   // num_experts_per_tok
  int32_t expert_intermediate = 0;     // moe_intermediate_size
  int32_t num_shared_experts = 0;      // DeepSeek n_shared_experts (one MLP of width n × moe_intermediate_size)
  int32_t shared_intermediate = 0;     // width of the shared-expert MLP (0 = none)
  bool shared_expert_gate = false;     // Qwen2-MoE: shared output × sigmoid(x·gate)
  MoeScoring scoring = MoeScoringKind::Softmax;
  bool norm_topk_prob = false;
  double routed_scaling_factor = 1.0;
  bool scale_when_normalized = false;  // DeepSeek-V3 scales after normalising; V2 only when not
  MoeTopkMethod topk_method = MoeTopkKind::Greedy;
  int32_t n_group = 1;
  int32_t topk_group = 1;
  // Which layers are MoE (DeepSeek: first_k_dense_replace / moe_layer_freq;
  // Qwen2-MoE: decoder_sparse_step / mlp_only_layers).
  int32_t first_k_dense_replace = 0;
  int32_t moe_layer_freq = 1;
  int32_t decoder_sparse_step = 1;
  std::vector<int32_t> mlp_only_layers;
};

// quantization_config {quant_method: fp8, fmt: e4m3, weight_block_size: [r, c]} of
// DeepSeek-V3/R1 checkpoints: Linear weights stored as F8_E4M3 with a `weight_scale_inv`
// per r × c block (w = q × scale_inv). The CPU backend dequantises to fp32 on load.
struct Fp8Quant {
  bool enabled = false;
  int32_t block_rows = 128;
  int32_t block_cols = 128;
};

struct ModelConfig {
  ModelFamily family = ModelFamily::Qwen2;
  std::string architecture;  // architectures[0]
  std::string model_type;
  int32_t hidden_size = 0;
  int32_t intermediate_size = 0;  // dense MLP width
  int32_t num_layers = 0;
  int32_t num_heads = 0;
  int32_t num_kv_heads = 0;
  int32_t head_dim = 0;
  int32_t vocab_size = 0;
  int64_t max_position_embeddings = 0;
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  bool tie_word_embeddings = false;
  bool qkv_bias = false;
  bool o_bias = false;
  bool mlp_bias = false;
  std::string torch_dtype = "bfloat16";
  int64_t bos_token_id = -1;
  std::vector<int64_t> eos_token_ids;
  MoeConfig moe;
  MlaConfig mla;
  Fp8Quant fp8;

  // Per-head widths of what the KV cache stores and of the rotated part.
  int32_t k_head_dim() const { return mla.enabled ? mla.q_head_dim() : head_dim; }
  int32_t v_head_dim() const { return mla.enabled ? mla.v_head_dim : head_dim; }
  int32_t rope_dim() const { return mla.enabled ? mla.qk_rope_head_dim : head_dim; }
  double softmax_scale() const;

  bool is_moe_layer(int32_t layer) const;
  int64_t parameter_count() const;
};

// Throws std::runtime_error with the offending field when the config is unusable.
ModelConfig parse_model_config(std::string_view json, const std::string& source = "config.json");
ModelConfig load_model_config(const std::string& model_dir);

// config.json text with the field names the family's HF class expects.
std::string model_config_to_json(const ModelConfig& c);

}  // namespace warden::engine
