#pragma once
// y = x · wᵀ (+ bias) where every output element is computed by the same sequence of
// floating-point operations whatever the number of rows m and wherever the row sits:
// 8 lane-wise partial sums over k in order, a fixed horizontal-add tree, then the
// k % 8 tail. Tiles of 4 rows × 3 weight rows only decide which elements are computed
// together, never how. This is what lets the CPU backend put the decode tokens of
// many sequences into one GEMM (weights read once per step) and stay batch-invariant,
// which OpenBLAS sgemm is not (its result for a row depends on M).
// The AVX2+FMA or portable path is chosen once per process from the CPU, not per call.
#include <cstdint>

#include "warden/engine/backend/cpu/cpu_weights.hpp"
#include "warden/engine/backend/cpu/thread_pool.hpp"

namespace warden::engine::cpu {

void rowwise_linear(const float* x, int32_t m, const Matrix& w, const float* bias, float* y, ThreadPool& threads);

// One element of the above: a·b over n floats, with the same arithmetic.
float rowwise_dot(const float* a, const float* b, int32_t n);

// "avx2-fma" or "portable": which path this process uses.
const char* rowwise_gemm_path();

}  // namespace warden::engine::cpu
