#pragma once
// RMSNorm as HF Qwen2/Llama compute it: in fp32, y = x * rsqrt(mean(x²) + eps), cast to
// bf16, times weight. Rows are `dim` wide, `stride` elements apart (stride >= dim) so
// a norm can run over a slice of a wider row (MLA's latent).
#include "kernels/kernel_types.cuh"

namespace warden::kernels {

// out = rms_norm(x) * weight. out may alias x.
void rms_norm(const bf16* x, int64_t x_stride, const bf16* weight, float eps, int32_t rows, int32_t dim, bf16* out,
              int64_t out_stride, cudaStream_t stream);

// The pre-norm residual step of a decoder layer, fused:
//   residual += delta   (bf16, as HF adds the block output to the hidden state)
//   out = rms_norm(residual) * weight
// Rows are contiguous (stride = dim). out must not alias residual or delta.
void add_rms_norm(const bf16* delta, bf16* residual, const bf16* weight, float eps, int32_t rows, int32_t dim,
                  bf16* out, cudaStream_t stream);

}  // namespace warden::kernels
