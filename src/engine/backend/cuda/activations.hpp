#pragma once
// The forward pass's device buffers, sized for a number of rows (tokens of a step) and
// grown, never shrunk: prepare() sizes them for max_num_batched_tokens up front so the
// KV budget sees them and a steady engine never allocates mid-step.
#include <cstdint>

#include "device_buffer.hpp"
#include "warden/engine/model/model_config.hpp"

namespace warden::engine::cuda {

struct ActivationWidths {
  int64_t hidden = 0;
  int64_t qkv = 0;       // GQA: (heads + 2 kv_heads) × head_dim; MLA: q_out + kv_lora + rope
  int64_t q = 0;         // MLA with q LoRA: heads × q_head_dim (q_b output)
  int64_t q_lora = 0;
  int64_t kv_lora = 0;
  int64_t kv_up = 0;     // MLA: heads × (nope + v)
  int64_t k_full = 0;    // MLA: heads × q_head_dim (assembled K)
  int64_t v_full = 0;    // MLA: heads × v_head_dim
  int64_t attn = 0;      // heads × v_head_dim
  int64_t ffn_inter = 0; // widest dense/shared MLP
  int64_t experts = 0, top_k = 0, expert_inter = 0;

  static ActivationWidths of(const ModelConfig& c);
};

class Activations {
 public:
  explicit Activations(const ModelConfig& c) : w_(ActivationWidths::of(c)) {}
  void ensure(int32_t rows);
  int32_t rows() const { return rows_; }
  const ActivationWidths& widths() const { return w_; }
  size_t bytes() const;

  // bf16 [rows][width]
  DeviceBuffer x, h, delta, qkv, q, q_lora, latent, kv_up, k_full, v_full, attn;
  DeviceBuffer gate_up, act;           // dense/shared MLP, and the routed experts' permuted rows
  DeviceBuffer x_perm, y_perm;         // [rows × top_k][hidden]
  DeviceBuffer router;                 // fp32 [rows][experts]
  DeviceBuffer topk_ids, topk_weights; // [rows][top_k] int32 / fp32
  DeviceBuffer expert_offsets;         // int32 [experts + 1]
  DeviceBuffer perm_to_assignment, assignment_to_perm;  // int32 [rows × top_k]
  DeviceBuffer shared_gate;            // bf16 [rows] (Qwen2-MoE shared-expert gate logit)

 private:
  ActivationWidths w_;
  int32_t rows_ = 0;
};

}  // namespace warden::engine::cuda
