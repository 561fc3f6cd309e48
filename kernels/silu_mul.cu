// SwiGLU: out = bf16(silu(gate) · up) with fp32 math and one rounding, as the header
// states. A grid-stride loop over the output, 8 elements (16 bytes) per step when the
// width and pointers allow.
#include <cstdint>

#include "kernels/common.cuh"
#include "kernels/silu_mul.cuh"

namespace warden::kernels {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = 4096;

__device__ __forceinline__ float silu(float g) { return g / (1.0f + expf(-g)); }

__global__ void silu_mul_vec_kernel(const bf16* __restrict__ gate_up, int32_t rows, int32_t width,
                                    bf16* __restrict__ out) {
  const int32_t w8 = width / 8;
  const int64_t n = int64_t(rows) * w8;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = i / w8;
    const int32_t c8 = int32_t(i - r * w8);
    const uint4* row = reinterpret_cast<const uint4*>(gate_up + r * 2 * width);
    Pack8 g, u, o;
    g.u = row[c8];
    u.u = row[w8 + c8];
    for (int j = 0; j < 8; ++j)
      o.h[j] = __float2bfloat16(silu(__bfloat162float(g.h[j])) * __bfloat162float(u.h[j]));
    reinterpret_cast<uint4*>(out)[i] = o.u;  // out row r, vector c8: r * w8 + c8 == i
  }
}

__global__ void silu_mul_kernel(const bf16* __restrict__ gate_up, int32_t rows, int32_t width,
                                bf16* __restrict__ out) {
  const int64_t n = int64_t(rows) * width;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = i / width;
    const int64_t c = i - r * width;
    const bf16* row = gate_up + r * 2 * width;
    out[i] = __float2bfloat16(silu(__bfloat162float(row[c])) * __bfloat162float(row[width + c]));
  }
}

int blocks_for(int64_t n) {
  const int64_t b = (n + kThreads - 1) / kThreads;
  return int(b < kMaxBlocks ? b : kMaxBlocks);
}


}  // namespace

void silu_mul(const bf16* gate_up, int32_t rows, int32_t width, bf16* out, cudaStream_t stream) {
  if (rows <= 0 || width <= 0) return;
  if (width % 8 == 0 && aligned16(gate_up) && aligned16(out)) {
    silu_mul_vec_kernel<<<blocks_for(int64_t(rows) * (width / 8)), kThreads, 0, stream>>>(gate_up, rows, width, out);
  } else {
    silu_mul_kernel<<<blocks_for(int64_t(rows) * width), kThreads, 0, stream>>>(gate_up, rows, width, out);
  }
}

}  // namespace warden::kernels
