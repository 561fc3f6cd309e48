#include "warden/engine/backend/cpu/ops.hpp"

#include <cblas.h>

#include <cmath>

#include "warden/engine/backend/cpu/rowwise_gemm.hpp"

namespace warden::engine::cpu {

void linear(const float* x, int32_t m, const Matrix& w, const float* bias, float* y) {
  if (m <= 0) return;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, w.rows, w.cols, 1.0f, x, w.cols, w.data, w.cols, 0.0f, y,
              w.rows);
  if (bias)
    for (int32_t r = 0; r < m; ++r) add_inplace(y + int64_t(r) * w.rows, bias, w.rows);
}

void Gemm::operator()(const float* x, int32_t m, const Matrix& w, const float* bias, float* y) const {
  if (rowwise) rowwise_linear(x, m, w, bias, y, *threads);
  else linear(x, m, w, bias, y);
}

void rms_norm(const float* x, const float* weight, float eps, int32_t dim, float* y) {
  // Sum of squares in double: cheap here and keeps the result close to the exact value
  // regardless of dim, which is what an independent reference agrees with best.
  double ss = 0.0;
  for (int32_t i = 0; i < dim; ++i) ss += double(x[i]) * double(x[i]);
  float inv = float(1.0 / std::sqrt(ss / dim + double(eps)));
  for (int32_t i = 0; i < dim; ++i) y[i] = (x[i] * inv) * weight[i];
}

void silu_mul(const float* gate, const float* up, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) {
    float g = gate[i];
    out[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

void add_inplace(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

}  // namespace warden::engine::cpu
