// Paged decode attention: one query token per sequence against its whole paged context.
//
// Grid (kv_head × head-chunk, seq, split). A CTA serves the query heads of one KV head
// (up to kMaxHeadsPerCta of them), so each K/V row is read from memory once per group,
// not once per query head. The context is cut into partitions of up to 512 tokens
// (split-K; shorter, down to 128, when the batch alone would leave SMs idle); each split
// walks its partition in tiles of kTile tokens staged in shared memory with cp.async (K
// of the next tile loads while this tile's V is used, V of the next while its scores are
// computed), with an online softmax in fp32. A sequence that
// needs one split writes its output directly; otherwise each split leaves its unnormalised
// accumulator with its running max and sum in the workspace and a second kernel merges
// them by log-sum-exp.
#include <algorithm>
#include <cmath>

#include "kernels/attention_common.cuh"
#include "kernels/paged_attention.cuh"

namespace warden::kernels {
namespace {

using attn::bf16x8_to_float;
using attn::cp_async16;
using attn::cp_async_commit;
using attn::cp_async_wait;

constexpr int kThreads = 128;
constexpr int kWarps = kThreads / 32;
constexpr int kTile = 64;            // tokens per shared-memory tile
constexpr int kMaxPartition = 512;   // tokens per split (a multiple of kTile) ...
constexpr int kMinPartition = 128;   // ... down to this when the batch is small
constexpr int64_t kTargetCtas = 256; // about two CTAs per SM on H100 (132) and A100 (108)
constexpr int kMaxVecsPerThread = 4;  // output vectors of 8 values one thread accumulates
constexpr int kMaxHeadsPerCta = 16;
constexpr int kHeadsPerThread = kMaxHeadsPerCta / (kThreads / kTile);  // score pass: heads per thread
static_assert(kThreads % kTile == 0, "the score pass gives each thread one token of the tile");
static_assert(kMaxPartition % kTile == 0 && kMinPartition % kTile == 0, "a split is whole tiles");
static_assert(kTile == 64, "the softmax pass reads two scores per lane");

struct DecodeParams {
  const bf16* q;
  int64_t q_stride;
  const int32_t* block_tables;
  int32_t max_blocks_per_seq;
  const int32_t* context_lens;
  int32_t num_heads, group, heads_per_cta, head_chunks;
  int32_t num_kv_heads, k_dim, v_dim, block_tokens;
  float scale_log2;
  const bf16* k_cache;
  const bf16* v_cache;
  bf16* out;
  int64_t out_stride;
  float* ws_acc;  // [n_seqs][num_heads][max_splits][v_dim]; null when max_splits == 1
  float* ws_m;    // [n_seqs][num_heads][max_splits] running max (log2 domain)
  float* ws_l;    // [n_seqs][num_heads][max_splits] running sum
  int32_t max_splits;
  int32_t partition;  // tokens per split, a multiple of kTile
};

// Splits sequence of length ctx uses; the last one absorbs any tail beyond max_splits.
__host__ __device__ inline int32_t splits_for(int32_t ctx, int32_t max_splits, int32_t partition) {
  if (ctx <= 0) return 0;
  const int32_t n = (ctx + partition - 1) / partition;
  return n < max_splits ? n : max_splits;
}

// Shared-memory carve-up; the host sizes the launch with the same function.
struct DecodeSmem {
  size_t k_tile, v_tile, q, scores, red, rows, m, l, corr, total;
};
__host__ __device__ inline DecodeSmem decode_smem(int32_t k_dim, int32_t v_dim, int32_t heads) {
  DecodeSmem s{};
  size_t off = 0;
  s.k_tile = off;  // [kTile][k_dim + 8] bf16: +8 keeps lanes reading rows t, t+1.. in distinct banks
  off += size_t(kTile) * (k_dim + 8) * 2;
  s.v_tile = off;  // [kTile][v_dim + 8] bf16
  off += size_t(kTile) * (v_dim + 8) * 2;
  s.q = off;  // [heads][k_dim] bf16
  off += size_t(heads) * k_dim * 2;
  s.scores = off;  // [heads][kTile] fp32: scores, then probabilities
  off += size_t(heads) * kTile * 4;
  s.red = off;  // [kThreads][8] fp32: token-slice partial accumulators
  off += size_t(kThreads) * 8 * 4;
  s.rows = off;  // [kTile] int64 row indices of the tile's tokens
  off += size_t(kTile) * 8;
  s.m = off;
  off += size_t(heads) * 4;
  s.l = off;
  off += size_t(heads) * 4;
  s.corr = off;
  off += size_t(heads) * 4;
  s.total = off;
  return s;
}

// Issues cp.async for `len` rows of `dim` bf16 into a tile with row stride dim + 8.
__device__ __forceinline__ void load_tile_rows(bf16* dst, const bf16* cache, const int64_t* rows, int len, int dim) {
  const int nv = dim / 8;
  for (int i = threadIdx.x; i < len * nv; i += kThreads) {
    const int t = i / nv, c = i - t * nv;
    cp_async16(dst + t * (dim + 8) + c * 8, cache + rows[t] * dim + c * 8);
  }
}

// min 4 CTAs/SM (the shared-memory limit at 128-wide heads anyway): without it ptxas
// capped sm_90a at 72 registers and spilled 16 bytes; with it 93, no spills.
__global__ void __launch_bounds__(kThreads, 4) paged_decode_kernel(const DecodeParams p) {
  extern __shared__ __align__(16) unsigned char smem[];
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int kv_head = blockIdx.x / p.head_chunks;
  const int chunk = blockIdx.x - kv_head * p.head_chunks;
  const int gc = min(p.heads_per_cta, p.group - chunk * p.heads_per_cta);  // heads in this CTA (>= 1)
  const int head0 = kv_head * p.group + chunk * p.heads_per_cta;            // its first query head
  const int s = blockIdx.y;
  const int split = blockIdx.z;
  const int ctx = p.context_lens[s];
  const int n_splits = splits_for(ctx, p.max_splits, p.partition);
  const int k_dim = p.k_dim, v_dim = p.v_dim;
  bf16* out = p.out + int64_t(s) * p.out_stride + int64_t(head0) * v_dim;

  if (n_splits == 0) {  // empty context: nothing to attend to, output zeros
    if (split == 0)
      for (int i = tid; i < gc * v_dim; i += kThreads) out[i] = __float2bfloat16(0.0f);
    return;
  }
  if (split >= n_splits) return;  // this sequence is shorter than the grid's longest
  const int begin = split * p.partition;
  const int end = split == n_splits - 1 ? ctx : begin + p.partition;

  const DecodeSmem L = decode_smem(k_dim, v_dim, p.heads_per_cta);
  bf16* k_s = reinterpret_cast<bf16*>(smem + L.k_tile);
  bf16* v_s = reinterpret_cast<bf16*>(smem + L.v_tile);
  bf16* q_s = reinterpret_cast<bf16*>(smem + L.q);
  float* sc_s = reinterpret_cast<float*>(smem + L.scores);
  float* red_s = reinterpret_cast<float*>(smem + L.red);
  int64_t* rows_s = reinterpret_cast<int64_t*>(smem + L.rows);
  float* m_s = reinterpret_cast<float*>(smem + L.m);
  float* l_s = reinterpret_cast<float*>(smem + L.l);
  float* corr_s = reinterpret_cast<float*>(smem + L.corr);

  // The gc heads of this CTA are one contiguous run of the query row.
  const bf16* q = p.q + int64_t(s) * p.q_stride + int64_t(head0) * k_dim;
  for (int i = tid; i < gc * k_dim; i += kThreads) q_s[i] = q[i];
  if (tid < gc) {
    m_s[tid] = -INFINITY;
    l_s[tid] = 0.0f;
  }
  const int32_t* table = p.block_tables + int64_t(s) * p.max_blocks_per_seq;

  // Output vectors (head g, 8 values at column c*8): nvo of them, `width` threads per
  // token slice, n_slices slices splitting each tile's tokens when the group is small.
  const int nvec = v_dim / 8;
  const int nvo = gc * nvec;  // <= kMaxVecsPerThread * kThreads (host guarantees)
  const int width = min(nvo, kThreads);
  const int n_slices = kThreads / width;
  const int slice = tid / width;
  const int base = tid - slice * width;
  const bool pv_active = slice < n_slices;
  // A thread's vectors are base + k·width; they sit in the same column of V when there
  // is only one (nvo <= kThreads) or when the row's vector count divides kThreads.
  const bool same_col = nvo <= kThreads || kThreads % nvec == 0;
  float acc[kMaxVecsPerThread][8];
#pragma unroll
  for (int k = 0; k < kMaxVecsPerThread; ++k)
#pragma unroll
    for (int j = 0; j < 8; ++j) acc[k][j] = 0.0f;

  // Prologue: rows of tile 0, then its K and V as two cp.async groups.
  int len = min(kTile, end - begin);
  if (tid < len) rows_s[tid] = attn::kv_row(table, begin + tid, p.block_tokens, p.num_kv_heads, kv_head);
  __syncthreads();
  load_tile_rows(k_s, p.k_cache, rows_s, len, k_dim);
  cp_async_commit();
  load_tile_rows(v_s, p.v_cache, rows_s, len, v_dim);
  cp_async_commit();

  const int nk = k_dim / 8;
  for (int t0 = begin; t0 < end; t0 += kTile) {
    const int next = t0 + kTile;
    const int next_len = next < end ? min(kTile, end - next) : 0;

    // 1. K of this tile has landed (V may still be in flight).
    cp_async_wait<1>();
    __syncthreads();

    // 2. Scores. Thread (t, g0) owns token t of the tile and heads g0, g0 + 2, ...: each K
    //    vector is loaded once and used for all of them. A warp holds 32 tokens of the
    //    same heads, so q reads are broadcasts and the padded K rows spread over the banks.
    {
      const int t = tid & (kTile - 1), g0 = tid / kTile;
      float a[kHeadsPerThread];
#pragma unroll
      for (int i = 0; i < kHeadsPerThread; ++i) a[i] = 0.0f;
      if (t < len) {
        const uint4* kr = reinterpret_cast<const uint4*>(k_s + t * (k_dim + 8));
        for (int c = 0; c < nk; ++c) {
          float kf[8];
          bf16x8_to_float(kr[c], kf);
#pragma unroll
          for (int i = 0; i < kHeadsPerThread; ++i) {
            const int g = g0 + i * (kThreads / kTile);
            if (g < gc) {
              float qf[8];
              bf16x8_to_float(reinterpret_cast<const uint4*>(q_s + g * k_dim)[c], qf);
#pragma unroll
              for (int j = 0; j < 8; ++j) a[i] = fmaf(qf[j], kf[j], a[i]);
            }
          }
        }
      }
#pragma unroll
      for (int i = 0; i < kHeadsPerThread; ++i) {
        const int g = g0 + i * (kThreads / kTile);
        if (g < gc) sc_s[g * kTile + t] = t < len ? a[i] * p.scale_log2 : -INFINITY;
      }
    }
    __syncthreads();

    // 3. Online softmax, one warp per head: probabilities replace the scores, the old
    //    accumulator is rescaled by corr. Every tile holds >= 1 real token, so the new
    //    max is finite and exp2f(-inf - m) = 0 covers both padding and the first tile.
    for (int g = warp; g < gc; g += kWarps) {
      float* sc = sc_s + g * kTile;
      const float v0 = sc[lane], v1 = sc[lane + 32];
      const float m_old = m_s[g];
      const float m_new = fmaxf(m_old, attn::warp_max(fmaxf(v0, v1)));
      const float p0 = exp2f(v0 - m_new), p1 = exp2f(v1 - m_new);
      sc[lane] = p0;
      sc[lane + 32] = p1;
      const float sum = attn::warp_sum(p0 + p1);
      __syncwarp();  // every lane has read m_s[g] before lane 0 replaces it
      if (lane == 0) {
        const float corr = exp2f(m_old - m_new);
        corr_s[g] = corr;
        l_s[g] = l_s[g] * corr + sum;
        m_s[g] = m_new;
      }
    }
    // Rows of the next tile (the in-flight V copies already took their addresses).
    if (tid < next_len) rows_s[tid] = attn::kv_row(table, next + tid, p.block_tokens, p.num_kv_heads, kv_head);
    __syncthreads();

    // 4. K of the next tile streams in while V of this one is used.
    if (next_len > 0) load_tile_rows(k_s, p.k_cache, rows_s, next_len, k_dim);
    cp_async_commit();  // possibly empty: keeps the group count uniform
    cp_async_wait<1>();  // this tile's V
    __syncthreads();

    // 5. acc = acc * corr + P · V for this thread's output vectors and token slice.
    //    Tokens outer: when all of a thread's vectors share a column (same_col), one V
    //    load serves every head it accumulates.
    if (pv_active) {
      int g_of[kMaxVecsPerThread], c_of[kMaxVecsPerThread];
#pragma unroll
      for (int k = 0; k < kMaxVecsPerThread; ++k) {
        const int vi = base + k * width;
        g_of[k] = vi < nvo ? vi / nvec : -1;
        c_of[k] = vi - (vi / nvec) * nvec;
        if (g_of[k] >= 0) {
          const float corr = corr_s[g_of[k]];
#pragma unroll
          for (int j = 0; j < 8; ++j) acc[k][j] *= corr;
        }
      }
      for (int t = slice; t < len; t += n_slices) {
        const bf16* vrow = v_s + t * (v_dim + 8);
        float vf[8];
        bf16x8_to_float(*reinterpret_cast<const uint4*>(vrow + c_of[0] * 8), vf);  // vector 0 always exists
#pragma unroll
        for (int k = 0; k < kMaxVecsPerThread; ++k) {
          if (g_of[k] >= 0) {
            if (k > 0 && !same_col) bf16x8_to_float(*reinterpret_cast<const uint4*>(vrow + c_of[k] * 8), vf);
            const float w = sc_s[g_of[k] * kTile + t];
#pragma unroll
            for (int j = 0; j < 8; ++j) acc[k][j] = fmaf(w, vf[j], acc[k][j]);
          }
        }
      }
    }
    __syncthreads();  // V tile and probabilities are free

    // 6. V of the next tile streams in while its scores are computed.
    if (next_len > 0) load_tile_rows(v_s, p.v_cache, rows_s, next_len, v_dim);
    cp_async_commit();
    len = next_len;
  }
  cp_async_wait<0>();  // only empty groups remain; leave none behind

  // Sum the token slices (only when nvo < kThreads, so each thread holds one vector).
  if (n_slices > 1) {
    if (pv_active) {
#pragma unroll
      for (int j = 0; j < 8; ++j) red_s[tid * 8 + j] = acc[0][j];
    }
    __syncthreads();
    if (slice == 0) {
      for (int sl = 1; sl < n_slices; ++sl) {
        const float* r = red_s + (sl * width + base) * 8;
#pragma unroll
        for (int j = 0; j < 8; ++j) acc[0][j] += r[j];
      }
    }
  }
  if (slice != 0) return;

  if (n_splits == 1) {
#pragma unroll
    for (int k = 0; k < kMaxVecsPerThread; ++k) {
      const int vi = base + k * width;
      if (vi < nvo) {
        const int g = vi / nvec, c = vi - g * nvec;
        const float inv = 1.0f / l_s[g];
        bf16* o = out + int64_t(g) * v_dim + c * 8;
#pragma unroll
        for (int j = 0; j < 8; ++j) o[j] = __float2bfloat16(acc[k][j] * inv);
      }
    }
    return;
  }
  const int64_t part_head0 = (int64_t(s) * p.num_heads + head0) * p.max_splits + split;
#pragma unroll
  for (int k = 0; k < kMaxVecsPerThread; ++k) {
    const int vi = base + k * width;
    if (vi < nvo) {
      const int g = vi / nvec, c = vi - g * nvec;
      float4* w = reinterpret_cast<float4*>(p.ws_acc + (part_head0 + int64_t(g) * p.max_splits) * v_dim + c * 8);
      w[0] = make_float4(acc[k][0], acc[k][1], acc[k][2], acc[k][3]);
      w[1] = make_float4(acc[k][4], acc[k][5], acc[k][6], acc[k][7]);
    }
  }
  if (tid < gc) {
    p.ws_m[part_head0 + int64_t(tid) * p.max_splits] = m_s[tid];
    p.ws_l[part_head0 + int64_t(tid) * p.max_splits] = l_s[tid];
  }
}

// Merge of the splits of one (sequence, head): weights 2^(m_i - M), out = Σ w_i acc_i / Σ w_i l_i.
constexpr int kMergeThreads = 128;

__global__ void __launch_bounds__(kMergeThreads) paged_decode_merge_kernel(const DecodeParams p) {
  extern __shared__ __align__(16) unsigned char smem[];
  float* w_s = reinterpret_cast<float*>(smem);  // [max_splits]
  __shared__ float red[kMergeThreads / 32];
  __shared__ float total[2];
  const int h = blockIdx.x, s = blockIdx.y, tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int n_splits = splits_for(p.context_lens[s], p.max_splits, p.partition);
  if (n_splits <= 1) return;  // written directly by the first kernel (or zeros)
  const int64_t part0 = (int64_t(s) * p.num_heads + h) * p.max_splits;

  float mx = -INFINITY;
  for (int i = tid; i < n_splits; i += kMergeThreads) mx = fmaxf(mx, p.ws_m[part0 + i]);
  mx = attn::warp_max(mx);
  if (lane == 0) red[warp] = mx;
  __syncthreads();
  if (tid == 0) {
    float m = red[0];
    for (int i = 1; i < kMergeThreads / 32; ++i) m = fmaxf(m, red[i]);
    total[0] = m;
  }
  __syncthreads();
  const float m_all = total[0];  // finite: every split saw at least one token
  float lsum = 0.0f;
  for (int i = tid; i < n_splits; i += kMergeThreads) {
    const float w = exp2f(p.ws_m[part0 + i] - m_all);
    w_s[i] = w;
    lsum += w * p.ws_l[part0 + i];
  }
  lsum = attn::warp_sum(lsum);
  __syncthreads();  // red[] reads above are done before it is reused
  if (lane == 0) red[warp] = lsum;
  __syncthreads();
  if (tid == 0) {
    float l = 0.0f;
    for (int i = 0; i < kMergeThreads / 32; ++i) l += red[i];
    total[1] = 1.0f / l;
  }
  __syncthreads();
  const float inv = total[1];
  bf16* out = p.out + int64_t(s) * p.out_stride + int64_t(h) * p.v_dim;
  const float* acc = p.ws_acc + part0 * p.v_dim;
  for (int d = tid; d < p.v_dim; d += kMergeThreads) {
    float a = 0.0f;
    for (int i = 0; i < n_splits; ++i) a = fmaf(w_s[i], acc[int64_t(i) * p.v_dim + d], a);
    out[d] = __float2bfloat16(a * inv);
  }
}

size_t workspace_per_split(const PagedAttentionBatch& batch, const PagedKvLayout& layout,
                           const AttentionHeads& heads) {
  return size_t(batch.n_seqs) * size_t(heads.num_heads) * (size_t(layout.v_dim) + 2) * sizeof(float);
}

}  // namespace

DecodeAttentionPlan plan_paged_decode_attention(const PagedAttentionBatch& batch, const PagedKvLayout& layout,
                                                const AttentionHeads& heads) {
  DecodeAttentionPlan pl;
  if (batch.n_seqs <= 0 || !attn::launchable(layout, heads.num_heads)) return pl;
  pl.group = heads.num_heads / layout.num_kv_heads;
  // Heads per CTA: at most kMaxHeadsPerCta and kMaxVecsPerThread·kThreads output vectors
  // (always 16 for v_dim <= 256); a larger group is cut into even chunks.
  const int32_t cap = std::min(kMaxHeadsPerCta, kMaxVecsPerThread * kThreads / (layout.v_dim / 8));
  pl.head_chunks = (pl.group + cap - 1) / cap;
  pl.heads_per_cta = (pl.group + pl.head_chunks - 1) / pl.head_chunks;
  // Partition: the tokens per CTA that would give kTargetCtas CTAs for the longest
  // sequence, in whole tiles, within [kMinPartition, kMaxPartition]. A big batch keeps
  // 512 (few partials to merge); one long sequence is cut finer so every SM streams.
  const int64_t units = int64_t(layout.num_kv_heads) * pl.head_chunks * batch.n_seqs;
  const int64_t max_ctx = batch.max_context > 0 ? batch.max_context : 0;
  int64_t part = (max_ctx * units + kTargetCtas - 1) / kTargetCtas;
  part = (part + kTile - 1) / kTile * kTile;
  pl.partition = int32_t(std::min<int64_t>(kMaxPartition, std::max<int64_t>(kMinPartition, part)));
  pl.splits = std::max<int32_t>(1, int32_t((max_ctx + pl.partition - 1) / pl.partition));
  pl.workspace_bytes = pl.splits > 1 ? size_t(pl.splits) * workspace_per_split(batch, layout, heads) : 0;
  return pl;
}

size_t paged_decode_attention_max_workspace_bytes(int32_t max_seqs, int64_t max_context, const PagedKvLayout& layout,
                                                  const AttentionHeads& heads) {
  // For n sequences the plan's partition is either kMaxPartition (splits = ceil(ctx /
  // 512)) or at least max(kMinPartition, ctx × units / kTargetCtas) with units >=
  // kv_heads × n, and then splits <= min(ceil(ctx / kMinPartition), ceil(kTargetCtas /
  // units)). Every term grows with ctx, so the bound at max_context covers shorter
  // contexts (the plan's own count does not: it can drop as ctx passes a partition step).
  if (max_seqs <= 0 || max_context <= 0 || !attn::launchable(layout, heads.num_heads)) return 0;
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

size_t paged_decode_attention_workspace_bytes(const PagedAttentionBatch& batch, const PagedKvLayout& layout,
                                              const AttentionHeads& heads) {
  return plan_paged_decode_attention(batch, layout, heads).workspace_bytes;
}

void paged_decode_attention(const DecodeAttentionPlan& plan, const bf16* q, int64_t q_stride,
                            const PagedAttentionBatch& batch, const PagedKvLayout& layout, const AttentionHeads& heads,
                            const bf16* k_cache, const bf16* v_cache, bf16* out, int64_t out_stride, void* workspace,
                            size_t workspace_bytes, cudaStream_t stream) {
  if (batch.n_seqs <= 0 || !attn::launchable(layout, heads.num_heads) || plan.group <= 0) return;

  DecodeParams p{};
  p.q = q;
  p.q_stride = q_stride;
  p.block_tables = batch.block_tables;
  p.max_blocks_per_seq = batch.max_blocks_per_seq;
  p.context_lens = batch.context_lens;
  p.num_heads = heads.num_heads;
  p.group = plan.group;
  p.head_chunks = plan.head_chunks;
  p.heads_per_cta = plan.heads_per_cta;
  p.partition = plan.partition;
  p.num_kv_heads = layout.num_kv_heads;
  p.k_dim = layout.k_dim;
  p.v_dim = layout.v_dim;
  p.block_tokens = layout.block_tokens;
  p.scale_log2 = heads.scale * attn::kLog2e;
  p.k_cache = k_cache;
  p.v_cache = v_cache;
  p.out = out;
  p.out_stride = out_stride;

  // Splits: what the plan asks for, fewer if the workspace is short (the last split
  // then takes the rest, slower but still exact); one split needs no workspace.
  int32_t splits = plan.splits;
  if (splits > 1) {
    const size_t per_split = workspace_per_split(batch, layout, heads);
    // The partials are stored as float4: a workspace off 16-byte alignment counts as none.
    const bool usable = workspace && reinterpret_cast<uintptr_t>(workspace) % 16 == 0;
    const size_t fit = usable ? workspace_bytes / per_split : 0;
    if (fit < size_t(splits)) splits = fit >= 2 ? int32_t(fit) : 1;
  }
  p.max_splits = splits;
  if (splits > 1) {
    const size_t n_parts = size_t(batch.n_seqs) * size_t(heads.num_heads) * size_t(splits);
    p.ws_acc = static_cast<float*>(workspace);
    p.ws_m = p.ws_acc + n_parts * size_t(layout.v_dim);
    p.ws_l = p.ws_m + n_parts;
  }

  const size_t smem = decode_smem(layout.k_dim, layout.v_dim, p.heads_per_cta).total;
  if (smem > 48 * 1024) cudaFuncSetAttribute(paged_decode_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem));
  const dim3 grid(unsigned(layout.num_kv_heads * p.head_chunks), unsigned(batch.n_seqs), unsigned(splits));
  paged_decode_kernel<<<grid, kThreads, smem, stream>>>(p);
  if (splits > 1) {
    const dim3 merge_grid(unsigned(heads.num_heads), unsigned(batch.n_seqs));
    // w_s is padded to whole 16-byte groups: ptxas turns the tail of the unrolled
    // Σ w_i·acc_i loop into one vector load that reaches up to three floats past
    // n_splits (unused lanes, but compute-sanitizer memcheck reports them as
    // out-of-bounds shared reads: seen on an H200).
    const size_t merge_smem = size_t((splits + 3) / 4 * 4) * sizeof(float);
    paged_decode_merge_kernel<<<merge_grid, kMergeThreads, merge_smem, stream>>>(p);
  }
}

void paged_decode_attention(const bf16* q, int64_t q_stride, const PagedAttentionBatch& batch,
                            const PagedKvLayout& layout, const AttentionHeads& heads, const bf16* k_cache,
                            const bf16* v_cache, bf16* out, int64_t out_stride, void* workspace,
                            size_t workspace_bytes, cudaStream_t stream) {
  paged_decode_attention(plan_paged_decode_attention(batch, layout, heads), q, q_stride, batch, layout, heads, k_cache,
                         v_cache, out, out_stride, workspace, workspace_bytes, stream);
}

}  // namespace warden::kernels
