#pragma once
// Device helpers shared by the paged attention kernels (decode and prefill); private to
// kernels/paged_*_attention.cu. Addressing follows the layout in kernel_types.cuh.
#include <cstdint>

#include "kernels/common.cuh"
#include "kernels/common.cuh"
#include "kernels/kernel_types.cuh"

namespace warden::kernels::attn {

// What both attention kernels run on (others return without a launch): head widths are
// multiples of 8 (16-byte rows) up to 256, and the query heads split evenly over KV heads.
inline bool launchable(const PagedKvLayout& layout, int32_t num_heads) {
  return num_heads > 0 && layout.num_kv_heads > 0 && layout.k_dim > 0 && layout.k_dim % 8 == 0 &&
         layout.k_dim <= 256 && layout.v_dim > 0 && layout.v_dim % 8 == 0 && layout.v_dim <= 256 &&
         num_heads % layout.num_kv_heads == 0;
}

// Scores are kept in the log2 domain (x · scale · log2 e) so softmax uses exp2f.
constexpr float kLog2e = 1.4426950408889634f;

__device__ __forceinline__ uint32_t smem_u32(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// 16-byte global -> shared copy that bypasses registers (sm_80+); .cg skips L1, which K/V
// rows read once per CTA do not need.
__device__ __forceinline__ void cp_async16(void* smem, const void* gmem) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(smem_u32(smem)), "l"(gmem) : "memory");
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }
// Waits until at most N of this thread's committed groups are still in flight.
template <int N>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
}

// Row index (in units of one head's row) of token `pos` of a sequence for KV head
// `kv_head`: K row = k_cache + row * k_dim, V row = v_cache + row * v_dim.
__device__ __forceinline__ int64_t kv_row(const int32_t* table, int32_t pos, int32_t block_tokens,
                                          int32_t num_kv_heads, int32_t kv_head) {
  const int32_t block = table[pos / block_tokens];
  return (int64_t(block) * num_kv_heads + kv_head) * block_tokens + (pos % block_tokens);
}

__device__ __forceinline__ void bf16x8_to_float(const uint4& v, float (&f)[8]) {
  const __nv_bfloat162* h = reinterpret_cast<const __nv_bfloat162*>(&v);
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const float2 t = __bfloat1622float2(h[i]);
    f[2 * i] = t.x;
    f[2 * i + 1] = t.y;
  }
}

using kernels::warp_max;  // kernels/common.cuh
using kernels::warp_sum;

}  // namespace warden::kernels::attn
