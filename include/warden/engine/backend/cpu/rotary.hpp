#pragma once
// Rotary position embedding, rotate-half (GPT-NeoX) layout as in HF Qwen2/Llama:
// dims i and i + d/2 form a pair rotated by pos · inv_freq[i]. inv_freq includes the
// Llama-3 frequency scaling when config.json asks for rope_scaling llama3.
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
  // Rotates `heads` consecutive vectors of head_dim in place.
  void apply(float* x, int32_t heads, const float* cos_v, const float* sin_v) const;
  int32_t half() const { return int32_t(inv_freq_.size()); }

 private:
  std::vector<double> inv_freq_;
};

}  // namespace warden::engine::cpu
