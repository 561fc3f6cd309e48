#pragma once
// The model's weights as fp32 matrices for the CPU backend. F32 tensors that are
// suitably aligned are used straight from the mmap (no copy); BF16/F16 tensors are
// converted once at load. Immutable after construction.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "warden/engine/model/model_config.hpp"
#include "warden/engine/weights/weight_store.hpp"

namespace warden::engine::parallel {
struct ShardPlan;
}

namespace warden::engine::cpu {

// Row-major [rows = out_features, cols = in_features], as nn.Linear stores it.
struct Matrix {
  const float* data = nullptr;
  int32_t rows = 0;
  int32_t cols = 0;
};

struct MlpWeights {
  Matrix gate, up, down;
};

struct MoeWeights {
  Matrix router;  // [num_experts, hidden]
  const float* router_bias = nullptr;  // e_score_correction_bias [num_experts] (noaux_tc)
  std::vector<MlpWeights> experts;
  bool has_shared = false;
  MlpWeights shared;
  bool has_shared_gate = false;  // Qwen2-MoE
  Matrix shared_gate;            // [1, hidden]
};

struct LayerWeights {
  const float* input_norm = nullptr;
  const float* post_norm = nullptr;
  Matrix q, k, v, o;
  const float* q_bias = nullptr;  // null when the family has none
  const float* k_bias = nullptr;
  const float* v_bias = nullptr;
  const float* o_bias = nullptr;
  // MLA (DeepSeek-V2/V3): q = q (no q LoRA) or q_b(norm(q_a(x))); kv_a gives the latent
  // plus the shared rope key; kv_b expands the normed latent to per-head k_nope and v.
  Matrix q_a, q_b, kv_a, kv_b;
  const float* q_a_norm = nullptr;
  const float* kv_a_norm = nullptr;
  bool is_moe = false;
  MlpWeights mlp;
  MoeWeights moe;
};

class CpuWeights {
 public:
  // Throws std::runtime_error naming a missing or mis-shaped tensor.
  CpuWeights(const ModelConfig& config, const std::string& model_dir);
  ~CpuWeights();

  const ModelConfig& config() const { return config_; }
  const float* embed() const { return embed_; }  // [vocab, hidden]
  const float* final_norm() const { return final_norm_; }
  const Matrix& lm_head() const { return lm_head_; }  // the embedding when tied
  const std::vector<LayerWeights>& layers() const { return layers_; }

  // Tensor parallelism: the part of `full` that rank plan.rank holds, shaped for
  // plan.shard_config (cpu_weights_shard.cpp). Column-parallel matrices and biases are
  // row ranges, so views into `full` (which the shard keeps alive); row-parallel ones
  // (o_proj, down_proj: column ranges) are copied; replicated tensors are shared.
  static std::shared_ptr<const CpuWeights> shard(std::shared_ptr<const CpuWeights> full,
                                                 const parallel::ShardPlan& plan);

 private:
  explicit CpuWeights(const ModelConfig& config);  // empty; filled by shard()
  const float* tensor(const std::string& name, const std::vector<int64_t>& shape);
  Matrix matrix(const std::string& name, int32_t rows, int32_t cols);
  MlpWeights mlp(const std::string& prefix_gate, const std::string& prefix_up, const std::string& prefix_down,
                 int32_t hidden, int32_t inter);

  ModelConfig config_;
  std::unique_ptr<WeightStore> store_;
  std::vector<std::vector<float>> owned_;
  class Progress;
  std::unique_ptr<Progress> progress_;
  const float* embed_ = nullptr;
  const float* final_norm_ = nullptr;
  Matrix lm_head_;
  std::vector<LayerWeights> layers_;
  std::shared_ptr<const CpuWeights> base_;  // a shard's views point into it
};

}  // namespace warden::engine::cpu
