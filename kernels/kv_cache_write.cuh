#pragma once
// Writes the new tokens' K and V rows into their paged slots (layout in kernel_types.cuh).
// k: [n_tokens][k_stride] holding num_kv_heads heads of k_dim; v likewise with v_dim.
// slots[t] = block * block_tokens + offset; a negative slot is skipped (padding).
#include "kernels/kernel_types.cuh"

namespace warden::kernels {

void kv_cache_write(const bf16* k, int64_t k_stride, const bf16* v, int64_t v_stride, const int32_t* slots,
                    int32_t n_tokens, PagedKvLayout layout, bf16* k_cache, bf16* v_cache, cudaStream_t stream);

}  // namespace warden::kernels
