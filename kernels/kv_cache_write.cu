// KV-cache write: one block per new token scatters its K and V heads into their paged
// slot (layout in kernel_types.cuh), 16 bytes at a time when rows and strides allow.
#include <cstdint>

#include "kernels/common.cuh"
#include "kernels/kv_cache_write.cuh"

namespace warden::kernels {
namespace {

constexpr int kThreads = 128;

// Copies `heads` rows of `dim` from src (token row) into their cache rows:
//   cache[((block * heads + h) * block_tokens + offset) * dim + e] = src[h * dim + e].
// kVec: dim % 8 == 0 and both pointers 16-byte aligned (checked by the launcher, which
// also checks the token stride so every token's row is aligned).
template <bool kVec>
__device__ void scatter_heads(const bf16* __restrict__ src, int32_t heads, int32_t dim, int32_t block_tokens,
                              int64_t block, int32_t offset, bf16* __restrict__ cache) {
  if constexpr (kVec) {
    const int32_t d8 = dim / 8;
    const int32_t n = heads * d8;
    for (int32_t i = threadIdx.x; i < n; i += blockDim.x) {
      const int32_t h = i / d8, e8 = i - h * d8;
      const int64_t row = (block * heads + h) * block_tokens + offset;
      reinterpret_cast<uint4*>(cache + row * dim)[e8] = reinterpret_cast<const uint4*>(src + int64_t(h) * dim)[e8];
    }
  } else {
    const int32_t n = heads * dim;
    for (int32_t i = threadIdx.x; i < n; i += blockDim.x) {
      const int32_t h = i / dim, e = i - h * dim;
      const int64_t row = (block * heads + h) * block_tokens + offset;
      cache[row * dim + e] = src[int64_t(h) * dim + e];
    }
  }
}

template <bool kVecK, bool kVecV>
__global__ void kv_cache_write_kernel(const bf16* __restrict__ k, int64_t k_stride, const bf16* __restrict__ v,
                                      int64_t v_stride, const int32_t* __restrict__ slots, PagedKvLayout layout,
                                      bf16* __restrict__ k_cache, bf16* __restrict__ v_cache) {
  const int64_t t = blockIdx.x;
  const int32_t slot = slots[t];
  if (slot < 0) return;  // padding token: the whole block leaves, no barrier follows
  const int64_t block = slot / layout.block_tokens;
  const int32_t offset = slot % layout.block_tokens;
  scatter_heads<kVecK>(k + t * k_stride, layout.num_kv_heads, layout.k_dim, layout.block_tokens, block, offset,
                       k_cache);
  if (v && v_cache && layout.v_dim > 0)
    scatter_heads<kVecV>(v + t * v_stride, layout.num_kv_heads, layout.v_dim, layout.block_tokens, block, offset,
                         v_cache);
}


template <bool kVecK>
void launch(bool vec_v, const bf16* k, int64_t k_stride, const bf16* v, int64_t v_stride, const int32_t* slots,
            int32_t n_tokens, PagedKvLayout layout, bf16* k_cache, bf16* v_cache, cudaStream_t stream) {
  if (vec_v) {
    kv_cache_write_kernel<kVecK, true>
        <<<n_tokens, kThreads, 0, stream>>>(k, k_stride, v, v_stride, slots, layout, k_cache, v_cache);
  } else {
    kv_cache_write_kernel<kVecK, false>
        <<<n_tokens, kThreads, 0, stream>>>(k, k_stride, v, v_stride, slots, layout, k_cache, v_cache);
  }
}

}  // namespace

void kv_cache_write(const bf16* k, int64_t k_stride, const bf16* v, int64_t v_stride, const int32_t* slots,
                    int32_t n_tokens, PagedKvLayout layout, bf16* k_cache, bf16* v_cache, cudaStream_t stream) {
  if (n_tokens <= 0 || layout.num_kv_heads <= 0 || layout.k_dim <= 0 || layout.block_tokens <= 0) return;
  const bool vec_k = layout.k_dim % 8 == 0 && k_stride % 8 == 0 && aligned16(k) && aligned16(k_cache);
  const bool vec_v = layout.v_dim % 8 == 0 && v_stride % 8 == 0 && aligned16(v) && aligned16(v_cache);
  if (vec_k) {
    launch<true>(vec_v, k, k_stride, v, v_stride, slots, n_tokens, layout, k_cache, v_cache, stream);
  } else {
    launch<false>(vec_v, k, k_stride, v, v_stride, slots, n_tokens, layout, k_cache, v_cache, stream);
  }
}

}  // namespace warden::kernels
