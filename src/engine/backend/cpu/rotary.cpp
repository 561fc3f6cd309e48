#include "warden/engine/backend/cpu/rotary.hpp"

#include <cmath>

namespace warden::engine::cpu {

Rotary::Rotary(const ModelConfig& c) {
  const int32_t d = c.head_dim;
  for (int32_t i = 0; i < d / 2; ++i) inv_freq_.push_back(1.0 / std::pow(c.rope_theta, double(2 * i) / d));
  if (c.rope_scaling.type == "llama3") {
    // Llama 3.1: long wavelengths are slowed by `factor`, short ones kept, and the band
    // between is interpolated smoothly (HF _compute_llama3_parameters).
    const RopeScaling& s = c.rope_scaling;
    const double old_len = double(s.original_max_position_embeddings);
    const double low_wavelen = old_len / s.low_freq_factor, high_wavelen = old_len / s.high_freq_factor;
    for (double& f : inv_freq_) {
      const double wavelen = 2.0 * M_PI / f;
      if (wavelen > low_wavelen) {
        f = f / s.factor;
      } else if (wavelen >= high_wavelen) {
        const double smooth = (old_len / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
        f = (1.0 - smooth) * f / s.factor + smooth * f;
      }
    }
  }
}

void Rotary::angles(int64_t pos, float* cos_out, float* sin_out) const {
  for (size_t i = 0; i < inv_freq_.size(); ++i) {
    const double a = double(pos) * inv_freq_[i];
    cos_out[i] = float(std::cos(a));
    sin_out[i] = float(std::sin(a));
  }
}

void Rotary::apply(float* x, int32_t heads, const float* cos_v, const float* sin_v) const {
  const int32_t h = half();
  for (int32_t n = 0; n < heads; ++n) {
    float* v = x + int64_t(n) * 2 * h;
    for (int32_t i = 0; i < h; ++i) {
      const float a = v[i], b = v[i + h];
      v[i] = a * cos_v[i] - b * sin_v[i];
      v[i + h] = b * cos_v[i] + a * sin_v[i];
    }
  }
}

}  // namespace warden::engine::cpu
