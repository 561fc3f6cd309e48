// Grouped GEMM over the experts' permuted rows: y[r] = x[r] · W[e]ᵀ for r in expert e's
// rows [offsets[e], offsets[e+1]).
//
// One launch, no host sync: the grid's x covers an upper bound on the row tiles of all
// experts together (ceil(rows / BM) + min(experts, rows): each non-empty expert wastes
// less than one tile), y the column tiles. A CTA ranks its x index among the experts'
// row tiles with a block scan over expert_offsets (a few hundred cycles for 256 experts),
// and CTAs past the last tile leave at once. Consecutive x share a column tile, so the
// row tiles of one expert read the same weight tile from L2.
//
// Tile 64 × 64 × 32, four warps each 32 × 32 with 2 × 2 WMMA 16×16×16 bf16 fragments
// (fp32 accumulate), a 3-stage cp.async pipeline when k % 8 == 0 and the operands are
// 16-byte aligned (else plain element loads with the same stage structure). Anything
// outside the expert's rows, n, or k is zero-filled in shared memory, so partial tiles
// are exact; the epilogue stages the fp32 tile in shared memory and stores bf16 rows
// with bounds checks (16-byte stores when n % 8 == 0).
#include <mma.h>

#include <cstdint>

#include "kernels/common.cuh"
#include "kernels/moe_grouped_gemm.cuh"

namespace warden::kernels {
namespace {

constexpr int32_t BM = 64, BN = 64, BK = 32, kStages = 3, kThreads = 128;
constexpr int32_t kLds = BK + 8;  // 80-byte smem rows: 16-byte chunks aligned, WMMA tiles 32-byte aligned
constexpr int32_t kLdc = BN + 4;  // fp32 staging rows (a multiple of 4 floats, as WMMA needs)
constexpr unsigned kFull = 0xffffffffu;

struct PipeSmem {
  bf16 a[kStages][BM][kLds];
  bf16 b[kStages][BN][kLds];
};
struct EpilogueSmem {
  float c[BM][kLdc];
};
constexpr size_t kSmemBytes = sizeof(PipeSmem) > sizeof(EpilogueSmem) ? sizeof(PipeSmem) : sizeof(EpilogueSmem);
static_assert(kSmemBytes <= 48 * 1024, "static shared memory");
static_assert(kThreads == 128 && BM == 64 && BN == 64 && BK == 32, "the load and warp maps assume these");

__device__ __forceinline__ void cp_async16(void* smem_dst, const void* gmem_src, bool valid) {
  const auto dst = static_cast<uint32_t>(__cvta_generic_to_shared(smem_dst));
  const int32_t src_bytes = valid ? 16 : 0;  // 0: the 16 bytes are zero-filled, nothing read
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(gmem_src), "r"(src_bytes));
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }
template <int N>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

// Loads the (BM or BN) × BK tile at k0 of `rows` source rows into dst: row i of the tile
// is source row row0 + i when row0 + i < row_end, else zeros; columns >= k are zeros.
// 64 rows × 4 chunks of 8 = 256 chunks over 128 threads: two each.
template <bool kVec>
__device__ __forceinline__ void load_tile(bf16 (*dst)[kLds], const bf16* __restrict__ src, int64_t row0,
                                          int64_t row_end, int32_t k, int32_t k0) {
#pragma unroll
  for (int32_t i = 0; i < 2; ++i) {
    const int32_t q = int32_t(threadIdx.x) + i * kThreads;
    const int32_t row = q >> 2;        // 0..63
    const int32_t kc = (q & 3) * 8;    // 0, 8, 16, 24
    const int64_t gr = row0 + row;
    const int32_t gk = k0 + kc;
    const bool row_ok = gr >= 0 && gr < row_end;
    if constexpr (kVec) {
      const bool ok = row_ok && gk < k;  // k % 8 == 0: the chunk is wholly inside or outside
      cp_async16(&dst[row][kc], ok ? src + gr * k + gk : src, ok);
    } else {
      const bf16* s = src + (row_ok ? gr * k : 0);
#pragma unroll
      for (int32_t j = 0; j < 8; ++j)
        dst[row][kc + j] = (row_ok && gk + j < k) ? s[gk + j] : __float2bfloat16(0.0f);
    }
  }
}

template <bool kVecIn, bool kVecOut>
__global__ void __launch_bounds__(kThreads) grouped_gemm_kernel(const bf16* __restrict__ x, int32_t n_rows, int32_t k,
                                                                 const bf16* __restrict__ weights, int32_t n,
                                                                 int32_t num_experts,
                                                                 const int32_t* __restrict__ expert_offsets,
                                                                 bf16* __restrict__ y) {
  __shared__ __align__(128) unsigned char smem_raw[kSmemBytes];
  __shared__ int32_t warp_tiles[kThreads / 32];
  __shared__ int32_t s_expert, s_row0, s_row_end;

  const int32_t tid = int32_t(threadIdx.x), lane = tid & 31, warp = tid >> 5;

  // ---- which expert and row tile is this CTA's: rank blockIdx.x among all row tiles ----
  // Thread tid sums the tile counts of experts [lo, hi), the block scans those sums.
  const int32_t per = (num_experts + kThreads - 1) / kThreads;
  const int32_t lo = min(num_experts, tid * per), hi = min(num_experts, lo + per);
  int32_t local = 0;
  for (int32_t e = lo; e < hi; ++e) {
    const int32_t rows = expert_offsets[e + 1] - expert_offsets[e];
    local += rows > 0 ? (rows + BM - 1) / BM : 0;
  }
  int32_t incl = local;
  for (int32_t off = 1; off < 32; off <<= 1) {
    const int32_t v = __shfl_up_sync(kFull, incl, off);
    if (lane >= off) incl += v;
  }
  if (lane == 31) warp_tiles[warp] = incl;
  if (tid == 0) s_expert = -1;
  __syncthreads();
  int32_t before = incl - local;
  for (int32_t w = 0; w < warp; ++w) before += warp_tiles[w];
  const int32_t tile = int32_t(blockIdx.x);
  if (tile >= before && tile < before + local) {  // exactly one thread owns this tile
    int32_t t = tile - before;
    for (int32_t e = lo; e < hi; ++e) {
      const int32_t rows = expert_offsets[e + 1] - expert_offsets[e];
      const int32_t tiles = rows > 0 ? (rows + BM - 1) / BM : 0;
      if (t < tiles) {
        s_expert = e;
        s_row0 = expert_offsets[e] + t * BM;
        s_row_end = min(expert_offsets[e + 1], n_rows);
        break;
      }
      t -= tiles;
    }
  }
  __syncthreads();
  const int32_t expert = s_expert;
  if (expert < 0) return;  // past the last tile (block-uniform)
  const int64_t row0 = s_row0, row_end = s_row_end;
  const int32_t n0 = int32_t(blockIdx.y) * BN;
  const bf16* a_src = x;                                    // rows row0.. of x
  const bf16* b_src = weights + int64_t(expert) * n * k;    // rows n0.. of W[e]

  auto& pipe = *reinterpret_cast<PipeSmem*>(smem_raw);
  const int32_t wm = warp >> 1, wn = warp & 1;  // this warp's 32 × 32 quarter

  nvcuda::wmma::fragment<nvcuda::wmma::accumulator, 16, 16, 16, float> acc[2][2];
#pragma unroll
  for (int i = 0; i < 2; ++i)
#pragma unroll
    for (int j = 0; j < 2; ++j) nvcuda::wmma::fill_fragment(acc[i][j], 0.0f);

  const int32_t k_tiles = (k + BK - 1) / BK;
  // Prologue: tiles 0 .. kStages-2, one commit group each (empty groups past the end keep
  // the group count = tile index, which the wait below relies on).
#pragma unroll
  for (int32_t s = 0; s < kStages - 1; ++s) {
    if (s < k_tiles) {
      load_tile<kVecIn>(pipe.a[s], a_src, row0, row_end, k, s * BK);
      load_tile<kVecIn>(pipe.b[s], b_src, n0, n, k, s * BK);
    }
    cp_async_commit();
  }
  for (int32_t kt = 0; kt < k_tiles; ++kt) {
    // Groups committed so far: kt + kStages - 1; tile kt is group kt, done once at most
    // kStages - 2 remain pending. The barrier publishes every thread's copies and tells
    // that all warps finished computing on stage (kt - 1) % kStages, refilled next.
    cp_async_wait<kStages - 2>();
    __syncthreads();
    const int32_t next = kt + kStages - 1;
    if (next < k_tiles) {
      const int32_t st = next % kStages;
      load_tile<kVecIn>(pipe.a[st], a_src, row0, row_end, k, next * BK);
      load_tile<kVecIn>(pipe.b[st], b_src, n0, n, k, next * BK);
    }
    cp_async_commit();

    const int32_t st = kt % kStages;
#pragma unroll
    for (int32_t kk = 0; kk < BK; kk += 16) {
      nvcuda::wmma::fragment<nvcuda::wmma::matrix_a, 16, 16, 16, bf16, nvcuda::wmma::row_major> fa[2];
      nvcuda::wmma::fragment<nvcuda::wmma::matrix_b, 16, 16, 16, bf16, nvcuda::wmma::col_major> fb[2];
#pragma unroll
      for (int i = 0; i < 2; ++i) nvcuda::wmma::load_matrix_sync(fa[i], &pipe.a[st][wm * 32 + i * 16][kk], kLds);
      // B(k, n) = W[n][k]: W's tile rows are B's columns, i.e. B column-major with ld kLds.
#pragma unroll
      for (int j = 0; j < 2; ++j) nvcuda::wmma::load_matrix_sync(fb[j], &pipe.b[st][wn * 32 + j * 16][kk], kLds);
#pragma unroll
      for (int i = 0; i < 2; ++i)
#pragma unroll
        for (int j = 0; j < 2; ++j) nvcuda::wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
    }
  }
  cp_async_wait<0>();
  __syncthreads();  // all warps done with the pipeline buffers before they become the fp32 tile

  auto& epi = *reinterpret_cast<EpilogueSmem*>(smem_raw);
#pragma unroll
  for (int i = 0; i < 2; ++i)
#pragma unroll
    for (int j = 0; j < 2; ++j)
      nvcuda::wmma::store_matrix_sync(&epi.c[wm * 32 + i * 16][wn * 32 + j * 16], acc[i][j], kLdc,
                                      nvcuda::wmma::mem_row_major);
  __syncthreads();

  if constexpr (kVecOut) {
    // 64 rows × 8 chunks of 8 columns = 512 chunks, four per thread.
#pragma unroll
    for (int32_t i = 0; i < 4; ++i) {
      const int32_t q = tid + i * kThreads;
      const int32_t row = q >> 3, c8 = (q & 7) * 8;
      const int64_t gr = row0 + row;
      const int32_t gn = n0 + c8;
      if (gr < row_end && gn < n) {  // n % 8 == 0: the chunk is wholly inside
        uint4 packed;
        auto* o = reinterpret_cast<__nv_bfloat162*>(&packed);
#pragma unroll
        for (int32_t h = 0; h < 4; ++h) o[h] = __floats2bfloat162_rn(epi.c[row][c8 + 2 * h], epi.c[row][c8 + 2 * h + 1]);
        *reinterpret_cast<uint4*>(y + gr * n + gn) = packed;
      }
    }
  } else {
    for (int32_t idx = tid; idx < BM * BN; idx += kThreads) {
      const int32_t row = idx / BN, col = idx % BN;
      const int64_t gr = row0 + row;
      const int32_t gn = n0 + col;
      if (gr < row_end && gn < n) y[gr * n + gn] = __float2bfloat16_rn(epi.c[row][col]);
    }
  }
}


template <bool kVecIn, bool kVecOut>
void launch(dim3 grid, cudaStream_t stream, const bf16* x, int32_t n_rows, int32_t k, const bf16* weights, int32_t n,
            int32_t num_experts, const int32_t* expert_offsets, bf16* y) {
  grouped_gemm_kernel<kVecIn, kVecOut>
      <<<grid, kThreads, 0, stream>>>(x, n_rows, k, weights, n, num_experts, expert_offsets, y);
}

}  // namespace

void moe_grouped_gemm(const bf16* x, int32_t n_rows, int32_t k, const bf16* weights, int32_t n, int32_t num_experts,
                      const int32_t* expert_offsets, bf16* y, cudaStream_t stream) {
  if (n_rows <= 0 || n <= 0 || num_experts <= 0 || k < 0) return;
  const int64_t row_tiles = (int64_t(n_rows) + BM - 1) / BM + (num_experts < n_rows ? num_experts : n_rows);
  const dim3 grid(static_cast<unsigned>(row_tiles), static_cast<unsigned>((n + BN - 1) / BN));
  const bool vec_in = k % 8 == 0 && aligned16(x) && aligned16(weights);
  const bool vec_out = n % 8 == 0 && aligned16(y);
  if (vec_in && vec_out)
    launch<true, true>(grid, stream, x, n_rows, k, weights, n, num_experts, expert_offsets, y);
  else if (vec_in)
    launch<true, false>(grid, stream, x, n_rows, k, weights, n, num_experts, expert_offsets, y);
  else if (vec_out)
    launch<false, true>(grid, stream, x, n_rows, k, weights, n, num_experts, expert_offsets, y);
  else
    launch<false, false>(grid, stream, x, n_rows, k, weights, n, num_experts, expert_offsets, y);
}

}  // namespace warden::kernels
