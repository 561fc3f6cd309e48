#pragma once
// Causal GQA attention over the paged KV cache (layout in kernel_types.cuh), which must
// already hold the new tokens' K/V (kv_cache_write runs first). Query head h reads KV
// head h / (num_heads / num_kv_heads). Softmax in fp32, output bf16.
//
// Two kernels share this description of the batch:
//  - paged_decode_attention: one query token per sequence (the last position),
//    split-K over the context for long sequences (partials merged by log-sum-exp in a
//    second pass), so a batch of few long sequences still fills the GPU.
//  - paged_prefill_attention: a chunk of query tokens per sequence, flash style
//    (online softmax over KV tiles), causal within the chunk; the chunk's first token
//    sits at position context_lens[s] - q_len(s). Serves whole and chunked prefill.
#include <cstddef>

#include "kernels/kernel_types.cuh"

namespace warden::kernels {

struct PagedAttentionBatch {
  int32_t n_seqs = 0;
  const int32_t* block_tables = nullptr;  // [n_seqs][max_blocks_per_seq] (device)
  int32_t max_blocks_per_seq = 0;
  const int32_t* context_lens = nullptr;  // [n_seqs] KV length, new tokens included (device)
  int32_t max_context = 0;                // max of context_lens (host knows it; sizes the grid)
};

struct AttentionHeads {
  int32_t num_heads = 0;
  float scale = 0.0f;  // softmax scale: 1/sqrt(k_dim), or DeepSeek's yarn-adjusted one
};

// Decode is planned once per step and run per layer: every layer of a step shares the
// batch's shape (n_seqs, max_context), the KV layout and the heads, so how the work is cut
// (heads per CTA, split-K partition) is decided once. The plan holds host values only.
struct DecodeAttentionPlan {
  int32_t group = 0;          // query heads per KV head
  int32_t head_chunks = 0;    // CTAs a KV head's group is cut into
  int32_t heads_per_cta = 0;
  int32_t partition = 0;      // tokens per split
  int32_t splits = 1;         // splits of the longest sequence
  size_t workspace_bytes = 0; // split-K partials (0 with one split)
};
DecodeAttentionPlan plan_paged_decode_attention(const PagedAttentionBatch& batch, const PagedKvLayout& layout,
                                                const AttentionHeads& heads);
// The most workspace any plan of up to max_seqs sequences no longer than max_context can
// ask for (computed from the kernel's own constants), so a backend can allocate it once,
// outside its KV budget, instead of growing it mid-serving.
size_t paged_decode_attention_max_workspace_bytes(int32_t max_seqs, int64_t max_context, const PagedKvLayout& layout,
                                                  const AttentionHeads& heads);
// Rows of q / out: q row r holds num_heads × k_dim, out row r num_heads × v_dim. A
// workspace smaller than plan.workspace_bytes (or off 16-byte alignment) means fewer
// splits: slower, still exact.
void paged_decode_attention(const DecodeAttentionPlan& plan, const bf16* q, int64_t q_stride,
                            const PagedAttentionBatch& batch, const PagedKvLayout& layout, const AttentionHeads& heads,
                            const bf16* k_cache, const bf16* v_cache, bf16* out, int64_t out_stride, void* workspace,
                            size_t workspace_bytes, cudaStream_t stream);
// Plan and run in one call (tests, one-off use).
size_t paged_decode_attention_workspace_bytes(const PagedAttentionBatch& batch, const PagedKvLayout& layout,
                                              const AttentionHeads& heads);
void paged_decode_attention(const bf16* q, int64_t q_stride, const PagedAttentionBatch& batch,
                            const PagedKvLayout& layout, const AttentionHeads& heads, const bf16* k_cache,
                            const bf16* v_cache, bf16* out, int64_t out_stride, void* workspace,
                            size_t workspace_bytes, cudaStream_t stream);

// q_starts: [n_seqs + 1] (device) — rows q_starts[s] .. q_starts[s+1] belong to sequence s.
// max_q_len: the longest chunk (host knows it; sizes the grid).
void paged_prefill_attention(const bf16* q, int64_t q_stride, const int32_t* q_starts, int32_t max_q_len,
                             const PagedAttentionBatch& batch, const PagedKvLayout& layout,
                             const AttentionHeads& heads, const bf16* k_cache, const bf16* v_cache, bf16* out,
                             int64_t out_stride, cudaStream_t stream);

}  // namespace warden::kernels
