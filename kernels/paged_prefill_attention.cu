// Paged prefill attention: causal, flash style (online softmax over KV tiles), on the
// tensor cores (mma.sync m16n8k16 bf16, fp32 accumulate; sm_80+).
//
// Grid (row tile, kv_head, seq). The rows of a CTA are (query token, query head) pairs of
// one KV head flattened as row = token · group + head, so the query heads sharing a KV
// head share every K/V tile that is loaded (GQA reuse), whatever the group size. Each of
// the 4 warps owns 16 rows; a KV tile of kBk tokens is staged in shared memory with
// cp.async (K of the next tile loads during this tile's softmax and P·V, V of the next
// during its Q·Kᵀ). Row tiles are launched heaviest (latest positions) first.
//
// Head widths are padded with zeros to a compiled bucket (64, 128, 192, 256; 192/128 for
// MLA), so any multiple of 8 up to 256 works; zeros add nothing to Q·Kᵀ, and padded
// output columns are never stored.
//
// mma.sync m16n8k16 fragments (lane = 4·gid + tig):
//   A 16×16 (row major): a0 (gid, 2tig..+1), a1 (gid+8, 2tig..), a2 (gid, 2tig+8..), a3 (gid+8, 2tig+8..)
//   B 16×8  ("col"):     b0 (k 2tig..+1, n gid), b1 (k 2tig+8..+9, n gid)
//   C 16×8  fp32:        c0,c1 (gid, 2tig..+1), c2,c3 (gid+8, 2tig..+1)
// ldmatrix gives lane l the pair (row l/4, cols 2(l%4)..+1) of an 8×8 matrix whose row r
// address came from lane 8·i + r (matrix i); with .trans the pair (rows 2(l%4)..+1, col l/4).
#include <cmath>

#include "kernels/attention_common.cuh"
#include "kernels/paged_attention.cuh"

namespace warden::kernels {
namespace {

using attn::cp_async16;
using attn::cp_async_commit;
using attn::cp_async_wait;
using attn::smem_u32;

constexpr int kThreads = 128;
constexpr int kBm = 64;  // rows per CTA: 4 warps × 16

struct PrefillParams {
  const bf16* q;
  int64_t q_stride;
  const int32_t* q_starts;
  const int32_t* block_tables;
  int32_t max_blocks_per_seq;
  const int32_t* context_lens;
  int32_t group, num_kv_heads, k_dim, v_dim, block_tokens;
  float scale_log2;
  const bf16* k_cache;
  const bf16* v_cache;
  bf16* out;
  int64_t out_stride;
  bool q_vec;  // q rows may be read 16 bytes at a time (aligned base, stride % 8 == 0)
};

__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], const void* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_u32(p))
               : "memory");  // orders it after the stores/cp.async a barrier published
}
__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t (&r)[4], const void* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_u32(p))
               : "memory");  // orders it after the stores/cp.async a barrier published
}
// c += a · b for one 16×8 tile.
__device__ __forceinline__ void mma_bf16(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, "
      "{%0, %1, %2, %3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}
template <int KD, int VD, int BK>
struct PrefillSmem {
  static constexpr int kQStride = KD + 8;  // +16 bytes: 8 rows of an ldmatrix hit distinct banks
  static constexpr int kKStride = KD + 8;
  static constexpr int kVStride = VD + 8;
  static constexpr size_t kQ = 0;
  static constexpr size_t kK = kQ + size_t(kBm) * kQStride * 2;
  static constexpr size_t kV = kK + size_t(BK) * kKStride * 2;
  static constexpr size_t kRows = kV + size_t(BK) * kVStride * 2;
  static constexpr size_t kTotal = kRows + size_t(BK) * 8;
};

// One tile of `len` real rows of width dim (padded to D) into shared memory: real data by
// cp.async, zeros for padded columns and rows past len (finite, so 0 · pad stays 0).
template <int D, int BK>
__device__ __forceinline__ void load_kv_tile(bf16* dst, const bf16* cache, const int64_t* rows, int len, int dim) {
  constexpr int kVecs = D / 8;
  for (int i = threadIdx.x; i < BK * kVecs; i += kThreads) {
    const int t = i / kVecs, c = i - t * kVecs;
    bf16* d = dst + t * (D + 8) + c * 8;
    if (t < len && c * 8 < dim)
      cp_async16(d, cache + rows[t] * dim + c * 8);
    else
      *reinterpret_cast<uint4*>(d) = make_uint4(0, 0, 0, 0);
  }
}

template <int KD, int VD, int BK>
__global__ void __launch_bounds__(kThreads) paged_prefill_kernel(const PrefillParams p) {
  static_assert(KD % 16 == 0 && VD % 16 == 0 && BK % 16 == 0, "mma tiles");
  using L = PrefillSmem<KD, VD, BK>;
  extern __shared__ __align__(16) unsigned char smem[];
  bf16* q_s = reinterpret_cast<bf16*>(smem + L::kQ);
  bf16* k_s = reinterpret_cast<bf16*>(smem + L::kK);
  bf16* v_s = reinterpret_cast<bf16*>(smem + L::kV);
  int64_t* rows_s = reinterpret_cast<int64_t*>(smem + L::kRows);

  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int gid = lane >> 2, tig = lane & 3;
  const int s = blockIdx.z, kv_head = blockIdx.y;
  const int m_tile = int(gridDim.x) - 1 - int(blockIdx.x);  // heaviest tiles first
  const int q_begin = p.q_starts[s];
  const int q_len = p.q_starts[s + 1] - q_begin;
  const int ctx = p.context_lens[s];
  const int first_pos = ctx - q_len;
  const int group = p.group;
  const int rows_total = q_len * group;
  const int m0 = m_tile * kBm;
  if (q_len <= 0 || first_pos < 0 || m0 >= rows_total) return;  // whole CTA: before any barrier
  const int k_dim = p.k_dim, v_dim = p.v_dim;

  // Q tile: row r = (token (m0 + r) / group, head (m0 + r) % group); zeros past the chunk
  // and past k_dim.
  {
    constexpr int kVecs = KD / 8;
    for (int i = tid; i < kBm * kVecs; i += kThreads) {
      const int r = i / kVecs, c = i - r * kVecs;
      const int gr = m0 + r;
      uint4 v = make_uint4(0, 0, 0, 0);
      if (gr < rows_total && c * 8 < k_dim) {
        const int ti = gr / group, g = gr - ti * group;
        const bf16* src = p.q + int64_t(q_begin + ti) * p.q_stride + int64_t(kv_head * group + g) * k_dim + c * 8;
        if (p.q_vec) {
          v = *reinterpret_cast<const uint4*>(src);
        } else {
          uint32_t w[4];
#pragma unroll
          for (int j = 0; j < 4; ++j)
            w[j] = uint32_t(__bfloat16_as_ushort(src[2 * j])) |
                   (uint32_t(__bfloat16_as_ushort(src[2 * j + 1])) << 16);  // lower column in the low half
          v = make_uint4(w[0], w[1], w[2], w[3]);
        }
      }
      *reinterpret_cast<uint4*>(q_s + r * L::kQStride + c * 8) = v;
    }
  }

  // Positions of this thread's two accumulator rows (gid and gid + 8 of its warp's 16).
  // Rows past the chunk take the last token's position: computed, never stored.
  const int r_lo = warp * 16 + gid, r_hi = r_lo + 8;
  const int last_row = min(m0 + kBm, rows_total) - 1;
  const int pos_lo = first_pos + min(m0 + r_lo, last_row) / group;
  const int pos_hi = first_pos + min(m0 + r_hi, last_row) / group;
  const int kv_end = first_pos + last_row / group + 1;  // keys the CTA's latest row sees

  const int32_t* table = p.block_tables + int64_t(s) * p.max_blocks_per_seq;
  const float scale = p.scale_log2;

  float o[VD / 8][4];
#pragma unroll
  for (int n = 0; n < VD / 8; ++n)
#pragma unroll
    for (int e = 0; e < 4; ++e) o[n][e] = 0.0f;
  float m_lo = -INFINITY, m_hi = -INFINITY;  // running max (log2 domain), quad-uniform
  float l_lo = 0.0f, l_hi = 0.0f;            // this thread's share of the running sum

  // Prologue: rows of tile 0, then its K and V as two cp.async groups.
  const int len = min(BK, kv_end);
  if (tid < len) rows_s[tid] = attn::kv_row(table, tid, p.block_tokens, p.num_kv_heads, kv_head);
  __syncthreads();  // rows_s, and q_s for the first Q·Kᵀ
  load_kv_tile<KD, BK>(k_s, p.k_cache, rows_s, len, k_dim);
  cp_async_commit();
  load_kv_tile<VD, BK>(v_s, p.v_cache, rows_s, len, v_dim);
  cp_async_commit();

  const bf16* q_warp = q_s + warp * 16 * L::kQStride;
  for (int kv0 = 0; kv0 < kv_end; kv0 += BK) {
    const int next = kv0 + BK;
    const int next_len = next < kv_end ? min(BK, kv_end - next) : 0;

    cp_async_wait<1>();  // K of this tile
    __syncthreads();

    // S = Q · Kᵀ: 16 rows × BK keys per warp.
    float sacc[BK / 8][4];
#pragma unroll
    for (int j = 0; j < BK / 8; ++j)
#pragma unroll
      for (int e = 0; e < 4; ++e) sacc[j][e] = 0.0f;
#pragma unroll
    for (int kk = 0; kk < KD / 16; ++kk) {
      uint32_t a[4];
      // matrices: (rows 0-7, k 0-7), (rows 8-15, k 0-7), (rows 0-7, k 8-15), (rows 8-15, k 8-15)
      ldmatrix_x4(a, q_warp + (lane & 15) * L::kQStride + kk * 16 + (lane >> 4) * 8);
#pragma unroll
      for (int j = 0; j < BK / 8; j += 2) {
        uint32_t b[4];
        // matrices: (keys 8j.., k 0-7), (keys 8j.., k 8-15), (keys 8(j+1).., k 0-7), (keys 8(j+1).., k 8-15)
        const int mi = lane >> 3;
        ldmatrix_x4(b, k_s + ((j + (mi >> 1)) * 8 + (lane & 7)) * L::kKStride + kk * 16 + (mi & 1) * 8);
        mma_bf16(sacc[j], a, b[0], b[1]);
        mma_bf16(sacc[j + 1], a, b[2], b[3]);
      }
    }

    // Rows of the next tile (the in-flight V copies already took their addresses).
    if (tid < next_len) rows_s[tid] = attn::kv_row(table, next + tid, p.block_tokens, p.num_kv_heads, kv_head);
    __syncthreads();  // every warp is done with K; rows_s is complete
    if (next_len > 0) load_kv_tile<KD, BK>(k_s, p.k_cache, rows_s, next_len, k_dim);
    cp_async_commit();  // possibly empty: keeps the group count uniform

    // Causal mask and online softmax on the accumulators (a row lives in one quad).
    float mx_lo = -INFINITY, mx_hi = -INFINITY;
#pragma unroll
    for (int j = 0; j < BK / 8; ++j) {
#pragma unroll
      for (int e = 0; e < 2; ++e) {
        const int key = kv0 + j * 8 + tig * 2 + e;
        sacc[j][e] = key <= pos_lo ? sacc[j][e] * scale : -INFINITY;
        sacc[j][2 + e] = key <= pos_hi ? sacc[j][2 + e] * scale : -INFINITY;
        mx_lo = fmaxf(mx_lo, sacc[j][e]);
        mx_hi = fmaxf(mx_hi, sacc[j][2 + e]);
      }
    }
#pragma unroll
    for (int o2 = 1; o2 <= 2; o2 <<= 1) {
      mx_lo = fmaxf(mx_lo, __shfl_xor_sync(0xffffffffu, mx_lo, o2));
      mx_hi = fmaxf(mx_hi, __shfl_xor_sync(0xffffffffu, mx_hi, o2));
    }
    const float new_lo = fmaxf(m_lo, mx_lo), new_hi = fmaxf(m_hi, mx_hi);
    // Key 0 is in the first tile and visible to every row, so the max is finite from
    // there on; the guard only keeps -inf - -inf out if that ever changed.
    const float base_lo = new_lo == -INFINITY ? 0.0f : new_lo;
    const float base_hi = new_hi == -INFINITY ? 0.0f : new_hi;
    const float corr_lo = exp2f(m_lo - base_lo), corr_hi = exp2f(m_hi - base_hi);
    m_lo = new_lo;
    m_hi = new_hi;
    l_lo *= corr_lo;
    l_hi *= corr_hi;
#pragma unroll
    for (int n = 0; n < VD / 8; ++n) {
      o[n][0] *= corr_lo;
      o[n][1] *= corr_lo;
      o[n][2] *= corr_hi;
      o[n][3] *= corr_hi;
    }
    // P in bf16 as the A operand of P·V: keys 16kk..16kk+15 are S tiles 2kk and 2kk+1.
    // The sum uses the rounded values, so it normalises exactly what P·V adds.
    uint32_t pa[BK / 16][4];
#pragma unroll
    for (int kk = 0; kk < BK / 16; ++kk) {
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const float* c = sacc[2 * kk + h];
        const __nv_bfloat162 lo = __floats2bfloat162_rn(exp2f(c[0] - base_lo), exp2f(c[1] - base_lo));
        const __nv_bfloat162 hi = __floats2bfloat162_rn(exp2f(c[2] - base_hi), exp2f(c[3] - base_hi));
        const float2 flo = __bfloat1622float2(lo), fhi = __bfloat1622float2(hi);
        l_lo += flo.x + flo.y;
        l_hi += fhi.x + fhi.y;
        pa[kk][2 * h] = *reinterpret_cast<const uint32_t*>(&lo);      // a0 / a2: row gid
        pa[kk][2 * h + 1] = *reinterpret_cast<const uint32_t*>(&hi);  // a1 / a3: row gid + 8
      }
    }

    cp_async_wait<1>();  // V of this tile (the next K may still be in flight)
    __syncthreads();

    // O += P · V: k = keys of the tile, n = V columns.
#pragma unroll
    for (int kk = 0; kk < BK / 16; ++kk) {
#pragma unroll
      for (int n = 0; n < VD / 8; n += 2) {
        uint32_t b[4];
        // matrices (transposed on load): (keys 0-7, cols 8n..), (keys 8-15, cols 8n..),
        // (keys 0-7, cols 8(n+1)..), (keys 8-15, cols 8(n+1)..)
        const int mi = lane >> 3;
        ldmatrix_x4_trans(b, v_s + (kk * 16 + (mi & 1) * 8 + (lane & 7)) * L::kVStride + (n + (mi >> 1)) * 8);
        mma_bf16(o[n], pa[kk], b[0], b[1]);
        mma_bf16(o[n + 1], pa[kk], b[2], b[3]);
      }
    }
    __syncthreads();  // every warp is done with V
    if (next_len > 0) load_kv_tile<VD, BK>(v_s, p.v_cache, rows_s, next_len, v_dim);
    cp_async_commit();
  }
  cp_async_wait<0>();

  // Finish the row sums across the quad and store the real rows and columns.
#pragma unroll
  for (int o2 = 1; o2 <= 2; o2 <<= 1) {
    l_lo += __shfl_xor_sync(0xffffffffu, l_lo, o2);
    l_hi += __shfl_xor_sync(0xffffffffu, l_hi, o2);
  }
  const float inv_lo = 1.0f / l_lo, inv_hi = 1.0f / l_hi;
#pragma unroll
  for (int half = 0; half < 2; ++half) {
    const int gr = m0 + (half ? r_hi : r_lo);
    if (gr >= rows_total) continue;
    const int ti = gr / group, g = gr - ti * group;
    bf16* dst = p.out + int64_t(q_begin + ti) * p.out_stride + int64_t(kv_head * group + g) * v_dim;
    const float inv = half ? inv_hi : inv_lo;
#pragma unroll
    for (int n = 0; n < VD / 8; ++n) {
      const int col = n * 8 + tig * 2;
      if (col < v_dim) {  // v_dim is a multiple of 8: col + 1 < v_dim too
        dst[col] = __float2bfloat16(o[n][2 * half] * inv);
        dst[col + 1] = __float2bfloat16(o[n][2 * half + 1] * inv);
      }
    }
  }
}

template <int KD, int VD, int BK>
void launch(const PrefillParams& p, int32_t max_q_len, int32_t n_seqs, cudaStream_t stream) {
  constexpr size_t smem = PrefillSmem<KD, VD, BK>::kTotal;
  auto* kernel = paged_prefill_kernel<KD, VD, BK>;
  if (smem > 48 * 1024) cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem));
  const int64_t rows = int64_t(max_q_len) * p.group;
  const dim3 grid(unsigned((rows + kBm - 1) / kBm), unsigned(p.num_kv_heads), unsigned(n_seqs));
  kernel<<<grid, kThreads, smem, stream>>>(p);
}

int bucket(int32_t d) { return d <= 64 ? 64 : d <= 128 ? 128 : d <= 192 ? 192 : 256; }

}  // namespace

void paged_prefill_attention(const bf16* q, int64_t q_stride, const int32_t* q_starts, int32_t max_q_len,
                             const PagedAttentionBatch& batch, const PagedKvLayout& layout,
                             const AttentionHeads& heads, const bf16* k_cache, const bf16* v_cache, bf16* out,
                             int64_t out_stride, cudaStream_t stream) {
  if (batch.n_seqs <= 0 || max_q_len <= 0 || !attn::launchable(layout, heads.num_heads)) return;
  PrefillParams p{};
  p.q = q;
  p.q_stride = q_stride;
  p.q_starts = q_starts;
  p.block_tables = batch.block_tables;
  p.max_blocks_per_seq = batch.max_blocks_per_seq;
  p.context_lens = batch.context_lens;
  p.group = heads.num_heads / layout.num_kv_heads;
  p.num_kv_heads = layout.num_kv_heads;
  p.k_dim = layout.k_dim;
  p.v_dim = layout.v_dim;
  p.block_tokens = layout.block_tokens;
  p.scale_log2 = heads.scale * attn::kLog2e;
  p.k_cache = k_cache;
  p.v_cache = v_cache;
  p.out = out;
  p.out_stride = out_stride;
  p.q_vec = reinterpret_cast<uintptr_t>(q) % 16 == 0 && q_stride % 8 == 0;

  const int kb = bucket(layout.k_dim), vb = bucket(layout.v_dim);
  if (kb == 192 && vb <= 128) return launch<192, 128, 64>(p, max_q_len, batch.n_seqs, stream);  // MLA
  switch (kb > vb ? kb : vb) {
    case 64:
      return launch<64, 64, 64>(p, max_q_len, batch.n_seqs, stream);
    case 128:
      return launch<128, 128, 64>(p, max_q_len, batch.n_seqs, stream);
    case 192:
      return launch<192, 192, 64>(p, max_q_len, batch.n_seqs, stream);
    default:
      return launch<256, 256, 32>(p, max_q_len, batch.n_seqs, stream);
  }
}

}  // namespace warden::kernels
