#pragma once
// The CPU backend's row-wise kernels. Every function computes each row from that
// row's inputs only, in a fixed order, so a token's result never depends on which
// other rows share the call. The exception is linear(): OpenBLAS sgemm is not
// row-invariant across M (verified: results differ in the last bits), so it is only
// ever given the rows of one sequence — see Gemm below.
#include <cstdint>

#include "warden/engine/backend/cpu/cpu_weights.hpp"
#include "warden/engine/backend/cpu/thread_pool.hpp"

namespace warden::engine::cpu {

// How a block multiplies a group of rows by a weight matrix. `rowwise` groups may mix
// rows of several sequences (rowwise_gemm.hpp: bitwise row-invariant); the others hold
// the rows of one sequence and use OpenBLAS sgemm.
struct Gemm {
  bool rowwise = false;
  ThreadPool* threads = nullptr;
  void operator()(const float* x, int32_t m, const Matrix& w, const float* bias, float* y) const;
};

// y[m, w.rows] = x[m, w.cols] · wᵀ (+ bias). y must not alias x.
void linear(const float* x, int32_t m, const Matrix& w, const float* bias, float* y);

// y = x / sqrt(mean(x²) + eps) * weight, per row of `dim`. y may alias x.
void rms_norm(const float* x, const float* weight, float eps, int32_t dim, float* y);

// out[i] = silu(gate[i]) * up[i]
void silu_mul(const float* gate, const float* up, int64_t n, float* out);

void add_inplace(float* y, const float* x, int64_t n);

}  // namespace warden::engine::cpu
