#pragma once
// Causal GQA attention of one sequence's new tokens over its paged KV (which must
// already hold the new tokens' K/V). Each (token, head) is computed on its own in a
// fixed order over positions 0..pos, so chunked prefill, decode and whole prefill
// give the same numbers for the same position.
#include <cstdint>
#include <vector>

#include "warden/engine/backend/cpu/paged_kv_pool.hpp"
#include "warden/engine/backend/cpu/thread_pool.hpp"

namespace warden::engine::cpu {

struct AttentionShape {
  int32_t num_heads = 0;
  int32_t num_kv_heads = 0;
  int32_t k_dim = 0;  // per-head width of q and K
  int32_t v_dim = 0;  // per-head width of V and of the output
  float scale = 0.0f;  // softmax scale (1/sqrt(k_dim), or DeepSeek's yarn-adjusted one)
};

// q: [num_new, num_heads * k_dim] (rotated); out: [num_new, num_heads * v_dim].
// Token i of the chunk sits at position first_pos + i.
void paged_attention(const AttentionShape& shape, const float* q, int32_t num_new, int64_t first_pos, int32_t layer,
                     const std::vector<int32_t>& block_table, PagedKvPool& pool, ThreadPool& threads, float* out);

}  // namespace warden::engine::cpu
