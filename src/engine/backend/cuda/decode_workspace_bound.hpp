#pragma once
// The most split-K scratch paged_decode_attention can ask for in any step of up to
// `max_seqs` decode rows no longer than `max_context`, so the backend can take it out
// of the KV budget and allocate it once, instead of growing it mid-serving after the KV
// pool has taken the memory (an out-of-memory step then).
//
// paged_decode_attention_workspace_bytes(batch) is splits × n_seqs × heads × (v_dim + 2)
// floats, with splits = ceil(max_context / partition) and partition chosen by plan_for
// in kernels/paged_decode_attention.cu: the tokens that give kTargetCtas (256) CTAs over
// units = kv_heads × head_chunks × n_seqs work units, rounded up to 64, clamped to
// [kMinPartition 128, kMaxPartition 512]. So either partition is 512 and
// splits = ceil(ctx / 512), or partition >= max(128, ctx × units / 256), and then
// splits <= min(ceil(ctx / 128), ceil(256 / units)) with units >= kv_heads × n_seqs.
// Every term grows with ctx, so the bound at max_context covers shorter contexts (the
// kernel's own count does not: it can drop as ctx grows past a partition step).
// If those kernel constants change, this must too.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "kernels/paged_attention.cuh"

namespace warden::engine::cuda {

inline size_t decode_workspace_bound(int32_t max_seqs, int64_t max_context, const kernels::PagedKvLayout& layout,
                                     const kernels::AttentionHeads& heads) {
  if (max_seqs <= 0 || max_context <= 0 || heads.num_heads <= 0 || layout.num_kv_heads <= 0) return 0;
  constexpr int64_t kMinPartition = 128, kMaxPartition = 512, kTargetCtas = 256;
  const auto ceil_div = [](int64_t a, int64_t b) { return (a + b - 1) / b; };
  const size_t per_seq_split = size_t(heads.num_heads) * (size_t(layout.v_dim) + 2) * sizeof(float);
  size_t bound = 0;
  for (int64_t n = 1; n <= max_seqs; ++n) {
    const int64_t units = int64_t(layout.num_kv_heads) * n;
    const int64_t splits = std::max(ceil_div(max_context, kMaxPartition),
                                    std::min(ceil_div(max_context, kMinPartition), ceil_div(kTargetCtas, units)));
    if (splits > 1) bound = std::max(bound, size_t(splits) * size_t(n) * per_seq_split);
  }
  return bound;
}

}  // namespace warden::engine::cuda
