#pragma once
// Rotary position embedding, rotate-half (GPT-NeoX) layout as in HF Qwen2/Llama:
// dims i and i + d/2 form a pair rotated by pos · inv_freq[i]. inv_freq includes the
// Llama-3 frequency scaling (rope_scaling llama3) or DeepSeek's yarn (with its cos/sin
// mscale). The rotated width is config.rope_dim() (qk_rope_head_dim under MLA).
#include <cstdint>
#include <vector>

#include "warden/engine/model/model_config.hpp"

namespace warden::engine::cpu {

class Rotary {
 public:
  explicit Rotary(const ModelConfig& config);

  const std::vector<double>& inv_freq() const { return inv_freq_; }
  // Fills cos/sin [head_dim/2] for one position (angles computed in double).
  void angles(int64_t pos, float* cos_out, float* sin_out) const;
  // Rotates `heads` vectors of rope_dim, `stride` floats apart, in place.
  void apply(float* x, int32_t heads, const float* cos_v, const float* sin_v, int64_t stride = 0) const;
  // DeepSeek MLA: the input pairs are interleaved (x[2i], x[2i+1]); the output is in
  // rotate-half layout, as HF DeepSeek-V2's apply_rotary_pos_emb leaves it.
  void apply_interleaved(float* x, int32_t heads, const float* cos_v, const float* sin_v, int64_t stride) const;
  int32_t half() const { return int32_t(inv_freq_.size()); }

 private:
  std::vector<double> inv_freq_;
  double mscale_ = 1.0;  // yarn: cos and sin are scaled by this
};

}  // namespace warden::engine::cpu
