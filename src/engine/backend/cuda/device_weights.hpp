#pragma once
// The model's weights on the device as bf16, loaded through the WeightStore (f32, f16,
// bf16, or fp8 e4m3 with block scales, all converted to bf16 on the host, one tensor at
// a time). Fused for fewer, larger GEMMs:
//   - GQA: q/k/v stacked into one QKV matrix, their biases concatenated;
//   - MLA: the q input projection (q_a, or q_proj without q LoRA) and kv_a stacked,
//     since both read the same normed hidden state;
//   - MLP: gate and up stacked into one [2I][H] matrix (silu_mul reads the halves);
//   - MoE: every expert's gate_up in one [E][2I][H] block and down in [E][H][I], the
//     layout moe_grouped_gemm reads.
// Tied embeddings: the LM head is the embedding table (one copy). Immutable after load.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "device_buffer.hpp"
#include "device_matrix.hpp"
#include "warden/engine/model/model_config.hpp"

namespace warden::engine {
class WeightStore;
}

namespace warden::engine::cuda {

struct DeviceMlp {
  DeviceMatrix gate_up;  // [2I][H]
  DeviceMatrix down;     // [H][I]
};

struct DeviceMoe {
  DeviceMatrix router;                  // [E][H], run with fp32 output
  const float* router_bias = nullptr;   // e_score_correction_bias [E] fp32 (noaux_tc)
  const bf16* experts_gate_up = nullptr;  // [E][2I][H]
  const bf16* experts_down = nullptr;     // [E][H][I]
  int32_t inter = 0;                      // I (moe_intermediate_size)
  bool has_shared = false;
  DeviceMlp shared;
  DeviceMatrix shared_gate;  // Qwen2-MoE [1][H]; empty otherwise
};

struct DeviceLayer {
  const bf16* input_norm = nullptr;
  const bf16* post_norm = nullptr;
  // GQA
  DeviceMatrix qkv;  // [(heads + 2 kv_heads) * head_dim][H]
  const bf16* qkv_bias = nullptr;
  // MLA
  DeviceMatrix mla_in;  // [q_out + kv_lora_rank + qk_rope_head_dim][H]; q_out = q_lora_rank or heads * q_head_dim
  DeviceMatrix q_b;     // [heads * q_head_dim][q_lora_rank] (q LoRA only)
  const bf16* q_a_norm = nullptr;
  const bf16* kv_a_norm = nullptr;
  DeviceMatrix kv_b;  // [heads * (nope + v)][kv_lora_rank]
  // both
  DeviceMatrix o;
  const bf16* o_bias = nullptr;
  bool is_moe = false;
  DeviceMlp mlp;
  DeviceMoe moe;
};

class DeviceWeights {
 public:
  // Throws std::runtime_error naming a missing or mis-shaped tensor (CudaError for the device).
  DeviceWeights(const ModelConfig& config, const std::string& model_dir);
  ~DeviceWeights();

  const bf16* embed() const { return embed_; }  // [vocab][H]
  const bf16* final_norm() const { return final_norm_; }
  const DeviceMatrix& lm_head() const { return lm_head_; }
  const std::vector<DeviceLayer>& layers() const { return layers_; }
  size_t bytes() const { return bytes_; }

 private:
  struct Part {
    std::string name;
    std::vector<int64_t> shape;
  };
  // One device allocation holding the parts back to back (row-stacked), as bf16.
  const bf16* upload(const std::vector<Part>& parts);
  DeviceMatrix stacked(const std::vector<Part>& parts);  // parts are [rows_i][cols]
  DeviceMatrix matrix(const std::string& name, int32_t rows, int32_t cols) { return stacked({{name, {rows, cols}}}); }
  const bf16* vec(const std::string& name, int64_t n) { return upload({{name, {n}}}); }
  const float* vec_f32(const std::string& name, int64_t n);
  // A tensor as bf16 bits on the host (fp8 dequantised with its weight_scale_inv).
  std::vector<uint16_t> host_bf16(const Part& part) const;
  DeviceMlp mlp(const std::string& gate, const std::string& up, const std::string& down, int32_t hidden,
                int32_t inter);

  ModelConfig config_;
  std::unique_ptr<WeightStore> store_;
  std::vector<DeviceBuffer> buffers_;
  size_t bytes_ = 0;
  const bf16* embed_ = nullptr;
  const bf16* final_norm_ = nullptr;
  DeviceMatrix lm_head_;
  std::vector<DeviceLayer> layers_;
};

}  // namespace warden::engine::cuda
