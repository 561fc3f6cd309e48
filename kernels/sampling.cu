// Token sampling on the device: one block per row, no sort of the vocabulary.
//
// Method. Tokens are ranked by a unique 64-bit key, (logit, then lower id first):
//   key = ordered_bits(logit) << 32 | (0xffffffff - id)
// so "the n best tokens" is always the set {key >= K} for one cut key K, ties included
// exactly as the CPU sampler breaks them (by id). Greedy is the largest key. The top-k
// cut is the k-th largest key and the top-p cut is the largest key whose prefix mass
// reaches top_p; both are found by the same radix select: 8 passes of 8 bits over the
// key, each pass a shared-memory histogram (of counts, or of probability mass) of the
// tokens still matching the digits chosen so far, then warp 0 picks the digit where the
// running total from the top reaches the target.
//
// Probability mass is fixed point: weight = uint64(expf((logit - max) / T) · 2^40),
// so every sum is an exact integer — deterministic whatever the order of the atomics,
// and reproducible on the host. The top token weighs exactly 2^40; tokens below 2^-40
// of it weigh 0 and are never drawn. Sums fit in 64 bits for vocab < 2^24.
//
// The draw: bits = Philox4x32-10(seed, step) (kernels/counter_rng.cuh), target =
// floor(bits / 2^64 · Z) over the kept mass Z, and the token is the first kept id (in
// id order, as the CPU sampler walks the whole vocabulary) whose inclusive prefix mass
// exceeds target — a block-wide scan tile by tile.
#include <cooperative_groups.h>
#include <cooperative_groups/reduce.h>

#include <cmath>
#include <cstdint>

#include "kernels/counter_rng.cuh"
#include "kernels/sampling.cuh"

namespace warden::kernels {
namespace {

namespace cg = cooperative_groups;

constexpr int kThreads = 512;
constexpr int kWarps = kThreads / 32;
constexpr unsigned kFull = 0xffffffffu;

// NaN ranks below every number (and weighs nothing); -0 counts as +0 so the two tie.
__device__ __forceinline__ float clean(float f) {
  if (f != f) return -INFINITY;
  return f == 0.0f ? 0.0f : f;
}

__device__ __forceinline__ uint64_t order_key(float cleaned_logit, int32_t id) {
  const uint32_t b = __float_as_uint(cleaned_logit);
  const uint32_t ordered = (b & 0x80000000u) ? ~b : (b | 0x80000000u);
  return (uint64_t(ordered) << 32) | uint64_t(0xffffffffu - uint32_t(id));
}

__device__ __forceinline__ int32_t key_id(uint64_t key) { return int32_t(0xffffffffu - uint32_t(key)); }

// Fixed-point probability mass (unnormalised). `mx` is the row's cleaned maximum. The
// top token gets exactly 1 (also when mx is ±inf, where l - mx would be NaN).
__device__ __forceinline__ uint64_t mass(float l, float mx, float inv_t) {
  const float w = l == mx ? 1.0f : expf((l - mx) * inv_t);
  return uint64_t(w * 0x1p40f);  // truncation, as the host reference does
}

// Block-wide reductions over uint64, result in every thread. `scratch` holds kWarps
// values; the leading barrier lets consecutive calls reuse it.
__device__ uint64_t block_max(uint64_t v, uint64_t* scratch) {
  for (int o = 16; o > 0; o >>= 1) {
    const uint64_t other = __shfl_xor_sync(kFull, v, o);
    v = other > v ? other : v;
  }
  __syncthreads();
  if (threadIdx.x % 32 == 0) scratch[threadIdx.x / 32] = v;
  __syncthreads();
  uint64_t m = scratch[0];
  for (int w = 1; w < kWarps; ++w) m = scratch[w] > m ? scratch[w] : m;
  return m;
}

__device__ uint64_t block_sum(uint64_t v, uint64_t* scratch) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(kFull, v, o);
  __syncthreads();
  if (threadIdx.x % 32 == 0) scratch[threadIdx.x / 32] = v;
  __syncthreads();
  uint64_t s = 0;
  for (int w = 0; w < kWarps; ++w) s += scratch[w];
  return s;
}

struct Shared {
  uint64_t hist[256];
  uint64_t scratch[kWarps];
  uint64_t pick_key;
  uint64_t pick_above;
  int32_t found;
};

// The largest key K of the row with W(K) >= target, where W(K) is the total weight of
// the tokens whose key is >= K (weight 1 each, or their mass when kMass). Requires
// 1 <= target <= W(smallest key). Called by the whole block.
template <bool kMass>
__device__ uint64_t radix_select(const float* __restrict__ row, int32_t vocab, float mx, float inv_t,
                                 uint64_t target, Shared& sh) {
  uint64_t prefix = 0;  // the digits chosen so far, in place
  uint64_t above = 0;   // weight of the tokens whose key is above every key with that prefix
  const cg::thread_block_tile<32> warp_tile = cg::tiled_partition<32>(cg::this_thread_block());
  for (int pass = 0; pass < 8; ++pass) {
    const int shift = 56 - 8 * pass;
    for (int b = threadIdx.x; b < 256; b += blockDim.x) sh.hist[b] = 0;
    __syncthreads();
    // Every thread runs the same number of iterations, so whole warps reach the
    // warp-level grouping below.
    for (int32_t base = 0; base < vocab; base += blockDim.x) {
      const int32_t i = base + int32_t(threadIdx.x);
      unsigned bin = 256;  // none: out of range, another prefix, or no weight
      uint64_t w = 0;
      if (i < vocab) {
        const float l = clean(row[i]);
        const uint64_t key = order_key(l, i);
        // shift + 8 == 64 on the first pass: every token matches the empty prefix.
        if (pass == 0 || (key >> (shift + 8)) == (prefix >> (shift + 8))) {
          w = kMass ? mass(l, mx, inv_t) : 1u;
          if (w != 0) bin = unsigned((key >> shift) & 255u);
        }
      }
      // Most logits share their top digits, so lanes adding to the same bin combine
      // first: one shared atomic per bin and warp instead of one per token.
      const cg::coalesced_group peers = cg::labeled_partition(warp_tile, bin);
      const uint64_t sum = cg::reduce(peers, w, cg::plus<uint64_t>());
      if (peers.thread_rank() == 0 && bin < 256)
        atomicAdd(reinterpret_cast<unsigned long long*>(&sh.hist[bin]), static_cast<unsigned long long>(sum));
    }
    __syncthreads();
    if (threadIdx.x < 32) {
      // Lane j owns bins 255 - 8j down to 248 - 8j: lane order is descending digit order.
      const int lane = threadIdx.x;
      const int top_bin = 255 - 8 * lane;
      uint64_t chunk = 0;
      for (int j = 0; j < 8; ++j) chunk += sh.hist[top_bin - j];
      uint64_t incl = chunk;
      for (int o = 1; o < 32; o <<= 1) {
        const uint64_t n = __shfl_up_sync(kFull, incl, o);
        if (lane >= o) incl += n;
      }
      const unsigned hit = __ballot_sync(kFull, above + incl >= target);
      // hit is never 0 while the precondition holds; lane 31 (digit 0) is the fallback.
      const int first = hit ? __ffs(hit) - 1 : 31;
      if (lane == first) {
        uint64_t cum = above + (incl - chunk);
        int digit = top_bin - 7;
        for (int j = 0; j < 8; ++j) {
          const int d = top_bin - j;
          if (cum + sh.hist[d] >= target) {
            digit = d;
            break;
          }
          cum += sh.hist[d];
        }
        sh.pick_key = prefix | (uint64_t(digit) << shift);
        sh.pick_above = cum;
      }
    }
    __syncthreads();
    prefix = sh.pick_key;
    above = sh.pick_above;
    // The next pass writes hist and pick_* only after its own first barrier.
  }
  return prefix;
}

// Total mass of the tokens with key >= cut.
__device__ uint64_t kept_mass(const float* __restrict__ row, int32_t vocab, float mx, float inv_t, uint64_t cut,
                              Shared& sh) {
  uint64_t s = 0;
  for (int32_t i = threadIdx.x; i < vocab; i += blockDim.x) {
    const float l = clean(row[i]);
    if (order_key(l, i) >= cut) s += mass(l, mx, inv_t);
  }
  return block_sum(s, sh.scratch);
}

// The first id (in id order) among the kept tokens whose inclusive prefix mass exceeds
// `target` (< total kept mass), or -1. Tiles of kThreads ids, each a block-wide scan.
__device__ int32_t walk_ids(const float* __restrict__ row, int32_t vocab, float mx, float inv_t, uint64_t cut,
                            uint64_t target, Shared& sh) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  if (threadIdx.x == 0) sh.found = -1;
  uint64_t base = 0;  // kept mass of all ids before this tile
  for (int32_t start = 0; start < vocab; start += kThreads) {
    const int32_t i = start + int32_t(threadIdx.x);
    uint64_t w = 0;
    if (i < vocab) {
      const float l = clean(row[i]);
      if (order_key(l, i) >= cut) w = mass(l, mx, inv_t);
    }
    uint64_t incl = w;
    for (int o = 1; o < 32; o <<= 1) {
      const uint64_t n = __shfl_up_sync(kFull, incl, o);
      if (lane >= o) incl += n;
    }
    __syncthreads();  // scratch of the previous tile fully read; `found` initialised
    if (lane == 31) sh.scratch[warp] = incl;
    __syncthreads();
    uint64_t before = base, tile = 0;
    for (int w2 = 0; w2 < kWarps; ++w2) {
      if (w2 < warp) before += sh.scratch[w2];
      tile += sh.scratch[w2];
    }
    incl += before;
    // Prefix masses increase with the id, so exactly one kept token brackets target.
    if (w != 0 && incl > target && incl - w <= target) sh.found = i;
    base += tile;
    __syncthreads();
    if (sh.found >= 0) break;  // the same value for every thread after the barrier
  }
  return sh.found;
}

__global__ void sample_kernel(const float* __restrict__ logits, int32_t vocab, const SamplingRow* __restrict__ params,
                              int32_t* __restrict__ out_ids) {
  __shared__ Shared sh;
  const float* row = logits + int64_t(blockIdx.x) * vocab;
  const SamplingRow p = params[blockIdx.x];

  uint64_t best = 0;
  for (int32_t i = threadIdx.x; i < vocab; i += blockDim.x) {
    const uint64_t key = order_key(clean(row[i]), i);
    best = key > best ? key : best;
  }
  best = block_max(best, sh.scratch);
  const int32_t best_id = key_id(best);

  // temperature <= 1e-5 (or NaN) → greedy; top_k == 1 keeps only the best token anyway.
  if (!(p.temperature > 1e-5f) || p.top_k == 1) {
    if (threadIdx.x == 0) out_ids[blockIdx.x] = best_id;
    return;  // uniform across the block: no barrier follows for anyone
  }
  const float mx = clean(row[best_id]);
  const float inv_t = 1.0f / p.temperature;
  const bool use_k = p.top_k > 0 && p.top_k < vocab;
  const bool use_p = p.top_p > 0.0f && p.top_p < 1.0f;

  uint64_t cut = 0;  // keep every token with key >= cut (0: all)
  if (use_k) cut = radix_select<false>(row, vocab, mx, inv_t, uint64_t(p.top_k), sh);
  uint64_t total = kept_mass(row, vocab, mx, inv_t, cut, sh);
  if (use_p) {
    // Smallest best-first prefix of the kept tokens whose mass reaches top_p of theirs:
    // mass(prefix) >= top_p · total  ⇔  mass(prefix) >= ceil(top_p · total) in integers.
    double t = ceil(double(p.top_p) * double(total));
    uint64_t target = t < 1.0 ? 1u : (t >= double(total) ? total : uint64_t(t));
    // Tokens below the top-k cut lie below every prefix reaching target (<= total), so
    // the select over all tokens lands at or above `cut`.
    cut = radix_select<true>(row, vocab, mx, inv_t, target, sh);
    total = kept_mass(row, vocab, mx, inv_t, cut, sh);
  }
  // total >= 2^40: the best token is always kept and weighs exactly 2^40.
  const uint64_t target = scale_draw(sample_bits(p.seed, p.step), total);
  const int32_t id = walk_ids(row, vocab, mx, inv_t, cut, target, sh);
  if (threadIdx.x == 0) out_ids[blockIdx.x] = id >= 0 ? id : best_id;
}

}  // namespace

size_t sample_workspace_bytes(int32_t rows, int32_t vocab) {
  return 0;  // everything lives in registers and shared memory, one block per row
}

void sample_tokens(const float* logits, int32_t rows, int32_t vocab, const SamplingRow* params, int32_t* out_ids,
                   void* workspace, size_t workspace_bytes, cudaStream_t stream) {
  if (rows <= 0 || vocab <= 0) return;
  sample_kernel<<<rows, kThreads, 0, stream>>>(logits, vocab, params, out_ids);
}

}  // namespace warden::kernels
