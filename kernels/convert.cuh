#pragma once
// Element-wise helpers the backend needs between GEMMs.
#include "kernels/kernel_types.cuh"

namespace warden::kernels {

void f32_to_bf16(const float* in, int64_t n, bf16* out, cudaStream_t stream);
void bf16_to_f32(const bf16* in, int64_t n, float* out, cudaStream_t stream);
// y += x (bf16 storage, fp32 add)
void add_inplace(bf16* y, const bf16* x, int64_t n, cudaStream_t stream);
// y[r] *= sigmoid(gate_logit[r]) for rows of `dim` (Qwen2-MoE shared-expert gate).
void scale_rows_by_sigmoid(bf16* y, const bf16* gate_logit, int32_t rows, int32_t dim, cudaStream_t stream);

}  // namespace warden::kernels
