#pragma once
// Helpers every kernel file may use (private to kernels/*.cu): the 16-byte alignment check
// the launchers make before choosing a vectorised path, the 8 × bf16 = 16-byte pack those
// paths load and store, and the warp reductions. One definition each, so a kernel cannot
// drift from the others.
#include <cstdint>

#include "kernels/kernel_types.cuh"

namespace warden::kernels {

// True when `p` may be read and written as uint4 (16-byte) vectors.
__host__ __device__ __forceinline__ bool aligned16(const void* p) {
  return (reinterpret_cast<uintptr_t>(p) & 15u) == 0;
}

// Eight bf16 values as one 16-byte vector.
union Pack8 {
  uint4 u;
  bf16 h[8];
};

// Butterfly (xor) reductions: every lane ends with the result. For the sum each lane
// adds in its own order, so lanes may differ in the last bit; a caller that needs one
// bit pattern everywhere (moe_route's normalisation) reduces to lane 0 and broadcasts.
__device__ __forceinline__ float warp_max(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}
__device__ __forceinline__ float warp_sum(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

}  // namespace warden::kernels
