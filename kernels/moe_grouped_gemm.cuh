#pragma once
// Per-expert GEMM over the permuted rows, in one launch, reading the expert boundaries
// from device memory (no host sync, capturable in a CUDA graph):
//   for each expert e, rows r in [offsets[e], offsets[e+1]):  y[r] = x[r] · W[e]ᵀ
// x: [n_rows][k] bf16; weights: [num_experts][n][k] bf16 (expert e at e * n * k);
// y: [n_rows][n] bf16; fp32 accumulation on tensor cores.
#include "kernels/kernel_types.cuh"

namespace warden::kernels {

void moe_grouped_gemm(const bf16* x, int32_t n_rows, int32_t k, const bf16* weights, int32_t n, int32_t num_experts,
                      const int32_t* expert_offsets, bf16* y, cudaStream_t stream);

}  // namespace warden::kernels
