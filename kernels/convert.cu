// Element-wise conversions and updates between GEMMs: grid-stride loops, fp32 math,
// one rounding to bf16 per stored element (round-to-nearest-even, like torch).
#include <cstdint>

#include "kernels/convert.cuh"

namespace warden::kernels {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = 4096;

int blocks_for(int64_t n) {
  const int64_t b = (n + kThreads - 1) / kThreads;
  return int(b < kMaxBlocks ? b : kMaxBlocks);
}

__device__ __forceinline__ int64_t first_index() { return int64_t(blockIdx.x) * blockDim.x + threadIdx.x; }
__device__ __forceinline__ int64_t grid_step() { return int64_t(gridDim.x) * blockDim.x; }

__global__ void f32_to_bf16_kernel(const float* __restrict__ in, int64_t n, bf16* __restrict__ out) {
  for (int64_t i = first_index(); i < n; i += grid_step()) out[i] = __float2bfloat16(in[i]);
}

__global__ void bf16_to_f32_kernel(const bf16* __restrict__ in, int64_t n, float* __restrict__ out) {
  for (int64_t i = first_index(); i < n; i += grid_step()) out[i] = __bfloat162float(in[i]);
}

// y may equal x (each element is read and written by one thread), so no __restrict__.
__global__ void add_inplace_kernel(bf16* y, const bf16* x, int64_t n) {
  for (int64_t i = first_index(); i < n; i += grid_step())
    y[i] = __float2bfloat16(__bfloat162float(y[i]) + __bfloat162float(x[i]));
}

// HF Qwen2-MoE computes F.sigmoid(gate_logit) on a bf16 tensor (rounded to bf16) and
// then multiplies in bf16, so the gate is rounded before the product as well.
__global__ void scale_rows_by_sigmoid_kernel(bf16* __restrict__ y, const bf16* __restrict__ gate_logit,
                                             int32_t dim, int64_t n) {
  for (int64_t i = first_index(); i < n; i += grid_step()) {
    const float g = __bfloat162float(gate_logit[i / dim]);
    const float s = __bfloat162float(__float2bfloat16(1.0f / (1.0f + expf(-g))));
    y[i] = __float2bfloat16(__bfloat162float(y[i]) * s);
  }
}

}  // namespace

void f32_to_bf16(const float* in, int64_t n, bf16* out, cudaStream_t stream) {
  if (n <= 0) return;
  f32_to_bf16_kernel<<<blocks_for(n), kThreads, 0, stream>>>(in, n, out);
}

void bf16_to_f32(const bf16* in, int64_t n, float* out, cudaStream_t stream) {
  if (n <= 0) return;
  bf16_to_f32_kernel<<<blocks_for(n), kThreads, 0, stream>>>(in, n, out);
}

void add_inplace(bf16* y, const bf16* x, int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  add_inplace_kernel<<<blocks_for(n), kThreads, 0, stream>>>(y, x, n);
}

void scale_rows_by_sigmoid(bf16* y, const bf16* gate_logit, int32_t rows, int32_t dim, cudaStream_t stream) {
  if (rows <= 0 || dim <= 0) return;
  const int64_t n = int64_t(rows) * dim;
  scale_rows_by_sigmoid_kernel<<<blocks_for(n), kThreads, 0, stream>>>(y, gate_logit, dim, n);
}

}  // namespace warden::kernels
