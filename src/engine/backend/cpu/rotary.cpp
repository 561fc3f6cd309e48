#include "warden/engine/backend/cpu/rotary.hpp"

#include <algorithm>
#include <cmath>

namespace warden::engine::cpu {

namespace {
// DeepSeek modeling code's yarn helpers.
double yarn_mscale(double scale, double mscale) { return scale <= 1.0 ? 1.0 : 0.1 * mscale * std::log(scale) + 1.0; }
double yarn_correction_dim(double rotations, int32_t dim, double base, double max_pos) {
  return (dim * std::log(max_pos / (rotations * 2.0 * M_PI))) / (2.0 * std::log(base));
}
}  // namespace

Rotary::Rotary(const ModelConfig& c) {
  const int32_t d = c.rope_dim();
  for (int32_t i = 0; i < d / 2; ++i) inv_freq_.push_back(1.0 / std::pow(c.rope_theta, double(2 * i) / d));
  if (c.rope_scaling.type == "yarn") {
    // Frequencies above the correction range keep their value ("extrapolation"), those
    // below are divided by factor ("interpolation"), with a linear ramp between.
    const RopeScaling& s = c.rope_scaling;
    const double orig = double(s.original_max_position_embeddings);
    double low = std::floor(yarn_correction_dim(s.beta_fast, d, c.rope_theta, orig));
    double high = std::ceil(yarn_correction_dim(s.beta_slow, d, c.rope_theta, orig));
    low = std::max(low, 0.0);
    high = std::min(high, double(d - 1));
    if (low == high) high += 0.001;
    for (int32_t i = 0; i < d / 2; ++i) {
      const double ramp = std::clamp((double(i) - low) / (high - low), 0.0, 1.0);
      const double extra_mask = 1.0 - ramp;
      const double extra = inv_freq_[size_t(i)], inter = extra / s.factor;
      inv_freq_[size_t(i)] = inter * (1.0 - extra_mask) + extra * extra_mask;
    }
    mscale_ = yarn_mscale(s.factor, s.mscale) / yarn_mscale(s.factor, s.mscale_all_dim);
  }
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
    cos_out[i] = float(std::cos(a) * mscale_);
    sin_out[i] = float(std::sin(a) * mscale_);
  }
}

void Rotary::apply(float* x, int32_t heads, const float* cos_v, const float* sin_v, int64_t stride) const {
  const int32_t h = half();
  if (stride == 0) stride = 2 * h;
  for (int32_t n = 0; n < heads; ++n) {
    float* v = x + int64_t(n) * stride;
    for (int32_t i = 0; i < h; ++i) {
      const float a = v[i], b = v[i + h];
      v[i] = a * cos_v[i] - b * sin_v[i];
      v[i + h] = b * cos_v[i] + a * sin_v[i];
    }
  }
}

void Rotary::apply_interleaved(float* x, int32_t heads, const float* cos_v, const float* sin_v, int64_t stride) const {
  const int32_t h = half();
  std::vector<float> tmp(static_cast<size_t>(2 * h));
  for (int32_t n = 0; n < heads; ++n) {
    float* v = x + int64_t(n) * stride;
    for (int32_t i = 0; i < h; ++i) {
      const float a = v[2 * i], b = v[2 * i + 1];
      tmp[size_t(i)] = a * cos_v[i] - b * sin_v[i];
      tmp[size_t(i + h)] = b * cos_v[i] + a * sin_v[i];
    }
    std::copy(tmp.begin(), tmp.end(), v);
  }
}

}  // namespace warden::engine::cpu
