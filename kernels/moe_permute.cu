// MoE permutation: a counting sort of the step's assignments by expert, stable in
// assignment (= token) order, then the row gather before the grouped GEMM and the
// weighted combine after it.
//
// moe_align works on "segments": contiguous runs of assignments, one warp each. A warp
// counts its segment's assignments per expert (warp match: the lowest lane of each set
// of equal ids adds the set's size, so no atomics and no order dependence), the counts
// are scanned (per expert over segments, then over experts: expert_offsets), and the
// warp walks its segment again placing each assignment at its expert's cursor plus its
// rank among equal ids of lower lanes. Every step is a fixed sequence of integer adds:
// deterministic.
//
// Up to kSingleBlockMax assignments (every decode step, most prefill chunks) one block
// does it all with the counts in shared memory: one launch, no workspace. Above that,
// three launches (count / scan / place) keep segments × (experts + 1) counts in the
// caller's workspace; a smaller workspace falls back to the one-block path (correct,
// slower). Ids outside [0, num_experts) (none when moe_route had enough experts to pick
// from) count as a virtual expert num_experts: they take the rows after expert_offsets
// [num_experts], where perm_to_assignment is -1, and their assignment_to_perm is -1;
// moe_gather_rows writes zero rows and moe_combine skips them.
#include <cstdint>

#include "kernels/common.cuh"
#include "kernels/moe_permute.cuh"

namespace warden::kernels {
namespace {

constexpr unsigned kFull = 0xffffffffu;
constexpr int64_t kSingleBlockMax = 16 * 1024;  // assignments handled by the one-block path
constexpr int32_t kSegment = 1024;              // assignments per warp in the multi-block path
constexpr int32_t kMaxSingleBlockWarps = 16;
constexpr int32_t kTiledWarpsPerBlock = 4;
constexpr int32_t kScanThreads = 1024;
constexpr int32_t kSmemLimit = 48 * 1024;

// Column of an assignment: its expert, or num_experts for an id out of range.
__device__ __forceinline__ int32_t column_of(int32_t id, int32_t num_experts) {
  return (id >= 0 && id < num_experts) ? id : num_experts;
}

// cnt[c] += number of assignments of column c in [begin, end). Warp-uniform bounds.
__device__ void warp_count_segment(const int32_t* __restrict__ ids, int64_t begin, int64_t end, int32_t num_experts,
                                   int32_t* cnt, int32_t lane) {
  for (int64_t base = begin; base < end; base += 32) {
    const int64_t a = base + lane;
    const int32_t key = a < end ? column_of(ids[a], num_experts) : -1;  // -1: lane past the end
    const unsigned peers = __match_any_sync(kFull, key);
    // The lowest lane of each set of equal keys adds the set's size; distinct sets write
    // distinct entries.
    if (key >= 0 && lane == __ffs(peers) - 1) cnt[key] += __popc(peers);
    __syncwarp();
  }
}

// Places the assignments of [begin, end): cursor[c] is column c's next free row.
__device__ void warp_place_segment(const int32_t* __restrict__ ids, int64_t begin, int64_t end, int32_t num_experts,
                                   int32_t* cursor, int32_t* __restrict__ perm_to_assignment,
                                   int32_t* __restrict__ assignment_to_perm, int32_t lane) {
  const unsigned lower = (1u << lane) - 1u;
  for (int64_t base = begin; base < end; base += 32) {
    const int64_t a = base + lane;
    const int32_t key = a < end ? column_of(ids[a], num_experts) : -1;
    const unsigned peers = __match_any_sync(kFull, key);
    const int32_t rank = __popc(peers & lower);
    const int32_t row = key >= 0 ? cursor[key] + rank : 0;
    __syncwarp();  // every peer read the cursor before its leader moves it
    if (key >= 0 && rank == 0) cursor[key] += __popc(peers);
    __syncwarp();
    if (key >= 0) {
      if (key < num_experts) {
        perm_to_assignment[row] = int32_t(a);
        assignment_to_perm[a] = row;
      } else {
        perm_to_assignment[row] = -1;
        assignment_to_perm[a] = -1;
      }
    }
  }
}

// In-place exclusive scan of a[0, n) in shared memory by the whole block (blockDim a
// multiple of 32, at most 1024). scratch: 32 ints of shared memory. Ends with a barrier.
__device__ void block_exclusive_scan(int32_t* a, int32_t n, int32_t* scratch) {
  const int32_t tid = int32_t(threadIdx.x), nt = int32_t(blockDim.x);
  const int32_t lane = tid & 31, warp = tid >> 5, nwarps = nt >> 5;
  const int32_t per = (n + nt - 1) / nt;
  const int32_t lo = min(n, tid * per), hi = min(n, lo + per);
  int32_t local = 0;
  for (int32_t i = lo; i < hi; ++i) local += a[i];
  int32_t incl = local;
  for (int32_t off = 1; off < 32; off <<= 1) {
    const int32_t v = __shfl_up_sync(kFull, incl, off);
    if (lane >= off) incl += v;
  }
  if (lane == 31) scratch[warp] = incl;
  __syncthreads();
  if (warp == 0) {
    const int32_t v = lane < nwarps ? scratch[lane] : 0;
    int32_t s = v;
    for (int32_t off = 1; off < 32; off <<= 1) {
      const int32_t u = __shfl_up_sync(kFull, s, off);
      if (lane >= off) s += u;
    }
    scratch[lane] = s - v;  // exclusive over warps
  }
  __syncthreads();
  int32_t run = scratch[warp] + incl - local;
  for (int32_t i = lo; i < hi; ++i) {
    const int32_t v = a[i];
    a[i] = run;
    run += v;
  }
  __syncthreads();
}

// ---- one block: shared memory [warps][C] counts, [C] totals, [32] scratch ----------
__global__ void align_one_block_kernel(const int32_t* __restrict__ ids, int64_t n_assign, int32_t num_experts,
                                       int64_t segment, int32_t* __restrict__ expert_offsets,
                                       int32_t* __restrict__ perm_to_assignment,
                                       int32_t* __restrict__ assignment_to_perm) {
  extern __shared__ int32_t align_smem[];
  const int32_t C = num_experts + 1;
  const int32_t warps = int32_t(blockDim.x >> 5);
  const int32_t warp = int32_t(threadIdx.x >> 5), lane = int32_t(threadIdx.x & 31);
  int32_t* counts = align_smem;           // [warps][C]
  int32_t* totals = counts + warps * C;   // [C]
  int32_t* scratch = totals + C;          // [32]
  int32_t* mine = counts + warp * C;

  for (int32_t c = lane; c < C; c += 32) mine[c] = 0;
  __syncwarp();
  const int64_t begin = min(n_assign, int64_t(warp) * segment);
  const int64_t end = min(n_assign, begin + segment);
  warp_count_segment(ids, begin, end, num_experts, mine, lane);
  __syncthreads();
  // Per column: exclusive over warps (in place), total over all.
  for (int32_t c = int32_t(threadIdx.x); c < C; c += int32_t(blockDim.x)) {
    int32_t run = 0;
    for (int32_t w = 0; w < warps; ++w) {
      const int32_t v = counts[w * C + c];
      counts[w * C + c] = run;
      run += v;
    }
    totals[c] = run;
  }
  __syncthreads();
  block_exclusive_scan(totals, C, scratch);
  for (int32_t c = int32_t(threadIdx.x); c < C; c += int32_t(blockDim.x)) {
    expert_offsets[c] = totals[c];  // c == num_experts: the end of the valid rows
    for (int32_t w = 0; w < warps; ++w) counts[w * C + c] += totals[c];
  }
  __syncthreads();
  warp_place_segment(ids, begin, end, num_experts, mine, perm_to_assignment, assignment_to_perm, lane);
}

// ---- multi-block: workspace [segments][C] ------------------------------------------
__global__ void align_count_kernel(const int32_t* __restrict__ ids, int64_t n_assign, int32_t num_experts,
                                   int32_t segments, int32_t* __restrict__ seg_counts) {
  extern __shared__ int32_t align_smem[];
  const int32_t C = num_experts + 1;
  const int32_t warp = int32_t(threadIdx.x >> 5), lane = int32_t(threadIdx.x & 31);
  const int32_t seg = int32_t(blockIdx.x) * int32_t(blockDim.x >> 5) + warp;
  if (seg >= segments) return;  // warp-local work only, no block barrier
  int32_t* cnt = align_smem + warp * C;
  for (int32_t c = lane; c < C; c += 32) cnt[c] = 0;
  __syncwarp();
  const int64_t begin = int64_t(seg) * kSegment;
  const int64_t end = min(n_assign, begin + kSegment);
  warp_count_segment(ids, begin, end, num_experts, cnt, lane);
  int32_t* out = seg_counts + int64_t(seg) * C;
  for (int32_t c = lane; c < C; c += 32) out[c] = cnt[c];
}

// One block: seg_counts becomes each segment's exclusive start within its column;
// expert_offsets the exclusive scan of the column totals.
__global__ void align_scan_kernel(int32_t num_experts, int32_t segments, int32_t* __restrict__ seg_counts,
                                  int32_t* __restrict__ expert_offsets) {
  extern __shared__ int32_t align_smem[];
  const int32_t C = num_experts + 1;
  int32_t* totals = align_smem;  // [C]
  int32_t* scratch = totals + C;  // [32]
  for (int32_t c = int32_t(threadIdx.x); c < C; c += int32_t(blockDim.x)) {
    int32_t run = 0;
    for (int32_t s = 0; s < segments; ++s) {
      const int32_t v = seg_counts[int64_t(s) * C + c];
      seg_counts[int64_t(s) * C + c] = run;
      run += v;
    }
    totals[c] = run;
  }
  __syncthreads();
  block_exclusive_scan(totals, C, scratch);
  for (int32_t c = int32_t(threadIdx.x); c < C; c += int32_t(blockDim.x)) expert_offsets[c] = totals[c];
}

__global__ void align_place_kernel(const int32_t* __restrict__ ids, int64_t n_assign, int32_t num_experts,
                                   int32_t segments, const int32_t* __restrict__ seg_starts,
                                   const int32_t* __restrict__ expert_offsets, int32_t* __restrict__ perm_to_assignment,
                                   int32_t* __restrict__ assignment_to_perm) {
  extern __shared__ int32_t align_smem[];
  const int32_t C = num_experts + 1;
  const int32_t warp = int32_t(threadIdx.x >> 5), lane = int32_t(threadIdx.x & 31);
  const int32_t seg = int32_t(blockIdx.x) * int32_t(blockDim.x >> 5) + warp;
  if (seg >= segments) return;
  int32_t* cursor = align_smem + warp * C;
  const int32_t* start = seg_starts + int64_t(seg) * C;
  for (int32_t c = lane; c < C; c += 32) cursor[c] = expert_offsets[c] + start[c];
  __syncwarp();
  const int64_t begin = int64_t(seg) * kSegment;
  const int64_t end = min(n_assign, begin + kSegment);
  warp_place_segment(ids, begin, end, num_experts, cursor, perm_to_assignment, assignment_to_perm, lane);
}

int64_t segments_of(int64_t n_assign) { return (n_assign + kSegment - 1) / kSegment; }

// ---- gather / combine -----------------------------------------------------------------
constexpr int32_t kRowWarps = 4;  // rows (gather) or tokens (combine) per 128-thread block


template <bool kVec>
__global__ void gather_rows_kernel(const bf16* __restrict__ x, int32_t hidden, const int32_t* __restrict__ perm,
                                   int64_t n_rows, int32_t top_k, bf16* __restrict__ x_perm) {
  const int64_t r = int64_t(blockIdx.x) * kRowWarps + (threadIdx.x >> 5);
  const int32_t lane = int32_t(threadIdx.x & 31);
  if (r >= n_rows) return;
  const int32_t a = perm[r];
  bf16* dst = x_perm + r * hidden;
  if constexpr (kVec) {
    auto* d4 = reinterpret_cast<uint4*>(dst);
    const int32_t n4 = hidden / 8;
    if (a < 0) {
      for (int32_t i = lane; i < n4; i += 32) d4[i] = make_uint4(0, 0, 0, 0);
      return;
    }
    const auto* s4 = reinterpret_cast<const uint4*>(x + int64_t(a / top_k) * hidden);
    for (int32_t i = lane; i < n4; i += 32) d4[i] = s4[i];
  } else {
    if (a < 0) {
      for (int32_t i = lane; i < hidden; i += 32) dst[i] = __float2bfloat16(0.0f);
      return;
    }
    const bf16* src = x + int64_t(a / top_k) * hidden;
    for (int32_t i = lane; i < hidden; i += 32) dst[i] = src[i];
  }
}

template <bool kVec>
__global__ void combine_kernel(const bf16* __restrict__ y_perm, int32_t hidden, const int32_t* __restrict__ a2p,
                               const float* __restrict__ topk_weights, int32_t n_tokens, int32_t top_k, bool accumulate,
                               bf16* __restrict__ out) {
  const int64_t t = int64_t(blockIdx.x) * kRowWarps + (threadIdx.x >> 5);
  const int32_t lane = int32_t(threadIdx.x & 31);
  if (t >= n_tokens) return;
  const int32_t* rows = a2p + t * top_k;
  const float* weights = topk_weights + t * top_k;
  bf16* dst = out + t * hidden;
  if constexpr (kVec) {
    for (int32_t c = lane * 8; c < hidden; c += 32 * 8) {
      float acc[8];
#pragma unroll
      for (int i = 0; i < 8; ++i) acc[i] = 0.0f;
      for (int32_t j = 0; j < top_k; ++j) {
        const int32_t p = rows[j];
        if (p < 0) continue;  // an assignment without an expert
        const float w = weights[j];
        const uint4 raw = *reinterpret_cast<const uint4*>(y_perm + int64_t(p) * hidden + c);
        const auto* v = reinterpret_cast<const __nv_bfloat162*>(&raw);
#pragma unroll
        for (int i = 0; i < 4; ++i) {
          const float2 f = __bfloat1622float2(v[i]);
          acc[2 * i] = fmaf(w, f.x, acc[2 * i]);
          acc[2 * i + 1] = fmaf(w, f.y, acc[2 * i + 1]);
        }
      }
      uint4 packed;
      auto* o = reinterpret_cast<__nv_bfloat162*>(&packed);
      if (accumulate) {
        const uint4 prev_raw = *reinterpret_cast<const uint4*>(dst + c);
        const auto* prev = reinterpret_cast<const __nv_bfloat162*>(&prev_raw);
#pragma unroll
        for (int i = 0; i < 4; ++i) {
          const float2 f = __bfloat1622float2(prev[i]);
          acc[2 * i] += f.x;
          acc[2 * i + 1] += f.y;
        }
      }
#pragma unroll
      for (int i = 0; i < 4; ++i) o[i] = __floats2bfloat162_rn(acc[2 * i], acc[2 * i + 1]);
      *reinterpret_cast<uint4*>(dst + c) = packed;
    }
  } else {
    for (int32_t c = lane; c < hidden; c += 32) {
      float acc = 0.0f;
      for (int32_t j = 0; j < top_k; ++j) {
        const int32_t p = rows[j];
        if (p < 0) continue;
        acc = fmaf(weights[j], __bfloat162float(y_perm[int64_t(p) * hidden + c]), acc);
      }
      if (accumulate) acc += __bfloat162float(dst[c]);
      dst[c] = __float2bfloat16_rn(acc);
    }
  }
}

}  // namespace

size_t moe_align_workspace_bytes(int32_t n_tokens, int32_t top_k, int32_t num_experts) {
  const int64_t n_assign = int64_t(n_tokens) * top_k;
  if (n_assign <= kSingleBlockMax || num_experts <= 0) return 0;
  return size_t(segments_of(n_assign)) * size_t(num_experts + 1) * sizeof(int32_t);
}

void moe_align(const int32_t* topk_ids, int32_t n_tokens, int32_t top_k, int32_t num_experts, int32_t* expert_offsets,
               int32_t* perm_to_assignment, int32_t* assignment_to_perm, void* workspace, size_t workspace_bytes,
               cudaStream_t stream) {
  if (num_experts <= 0) return;
  const int64_t n_assign = n_tokens > 0 && top_k > 0 ? int64_t(n_tokens) * top_k : 0;
  const int32_t C = num_experts + 1;
  const size_t need = moe_align_workspace_bytes(n_tokens, top_k, num_experts);

  if (need > 0 && workspace != nullptr && workspace_bytes >= need) {
    const int32_t segments = int32_t(segments_of(n_assign));
    auto* seg_counts = static_cast<int32_t*>(workspace);
    const int32_t blocks = (segments + kTiledWarpsPerBlock - 1) / kTiledWarpsPerBlock;
    const size_t warp_smem = size_t(kTiledWarpsPerBlock) * C * sizeof(int32_t);
    align_count_kernel<<<blocks, 32 * kTiledWarpsPerBlock, warp_smem, stream>>>(topk_ids, n_assign, num_experts,
                                                                               segments, seg_counts);
    align_scan_kernel<<<1, kScanThreads, size_t(C + 32) * sizeof(int32_t), stream>>>(num_experts, segments,
                                                                                    seg_counts, expert_offsets);
    align_place_kernel<<<blocks, 32 * kTiledWarpsPerBlock, warp_smem, stream>>>(
        topk_ids, n_assign, num_experts, segments, seg_counts, expert_offsets, perm_to_assignment,
        assignment_to_perm);
    return;
  }

  // One block (also the fallback for a missing or short workspace). Warps: enough for
  // the work, at most 16, and within 48 KB of shared memory ([warps][C] + [C] + [32]).
  int64_t warps = (n_assign + 31) / 32;
  if (warps > kMaxSingleBlockWarps) warps = kMaxSingleBlockWarps;
  const int64_t fit = (int64_t(kSmemLimit) / int64_t(sizeof(int32_t)) - 32 - C) / C;
  if (warps > fit) warps = fit;
  if (warps < 1) warps = 1;  // past ~6000 experts the launch fails loudly (shared memory)
  int64_t segment = (n_assign + warps - 1) / warps;
  segment = (segment + 31) / 32 * 32;
  const size_t smem = size_t((warps + 1) * C + 32) * sizeof(int32_t);
  align_one_block_kernel<<<1, int32_t(32 * warps), smem, stream>>>(topk_ids, n_assign, num_experts, segment,
                                                                  expert_offsets, perm_to_assignment,
                                                                  assignment_to_perm);
}

void moe_gather_rows(const bf16* x, int32_t hidden, const int32_t* perm_to_assignment, int32_t n_tokens, int32_t top_k,
                     bf16* x_perm, cudaStream_t stream) {
  if (n_tokens <= 0 || top_k <= 0 || hidden <= 0) return;
  const int64_t n_rows = int64_t(n_tokens) * top_k;
  const auto blocks = static_cast<unsigned>((n_rows + kRowWarps - 1) / kRowWarps);
  if (hidden % 8 == 0 && aligned16(x) && aligned16(x_perm))
    gather_rows_kernel<true><<<blocks, 32 * kRowWarps, 0, stream>>>(x, hidden, perm_to_assignment, n_rows, top_k,
                                                                    x_perm);
  else
    gather_rows_kernel<false><<<blocks, 32 * kRowWarps, 0, stream>>>(x, hidden, perm_to_assignment, n_rows, top_k,
                                                                     x_perm);
}

void moe_combine(const bf16* y_perm, int32_t hidden, const int32_t* assignment_to_perm, const float* topk_weights,
                 int32_t n_tokens, int32_t top_k, bool accumulate, bf16* out, cudaStream_t stream) {
  if (n_tokens <= 0 || hidden <= 0) return;
  const auto blocks = static_cast<unsigned>((int64_t(n_tokens) + kRowWarps - 1) / kRowWarps);
  if (hidden % 8 == 0 && aligned16(y_perm) && aligned16(out))
    combine_kernel<true><<<blocks, 32 * kRowWarps, 0, stream>>>(y_perm, hidden, assignment_to_perm, topk_weights,
                                                                n_tokens, top_k, accumulate, out);
  else
    combine_kernel<false><<<blocks, 32 * kRowWarps, 0, stream>>>(y_perm, hidden, assignment_to_perm, topk_weights,
                                                                 n_tokens, top_k, accumulate, out);
}

}  // namespace warden::kernels
