// MoE router: one warp per token. The warp keeps the token's scores (and the biased /
// masked "choice" values) in shared memory, picks groups by rank and experts by top_k
// rounds of a warp arg-max, and lane 0 writes the weights in choice order. The rules are
// those of the CPU backend's route_token (src/engine/backend/cpu/ffn.cpp), rule by rule:
//   scores   softmax over the logits (fp32, max-subtracted) or sigmoid per expert
//   choice   scores, + e_score_correction_bias under noaux_tc
//   groups   (not greedy) n_group groups of num_experts / n_group experts, ranked by their
//            best choice (group_limited_greedy) or the sum of their two best (noaux_tc);
//            the topk_group best stay, other experts' choice becomes 0 (group_limited_greedy)
//            or -inf (noaux_tc)
//   top-k    by choice, ties to the lower expert id
//   weights  the masked choice (group_limited_greedy) or the unbiased score; renormalised
//            (sum + 1e-20) when norm_topk_prob and (top_k > 1 or normalize_top1), then ×
//            routed_scaling_factor unless renormalised without scale_when_normalized.
// The order relation (value, then lower id) is a strict total order, so every lane reaches
// the same winner and the result does not depend on scheduling.
#include <cmath>

#include "kernels/common.cuh"
#include "kernels/moe_route.cuh"

namespace warden::kernels {
namespace {

constexpr int32_t kMaxWarpsPerBlock = 4;
constexpr unsigned kFull = 0xffffffffu;
constexpr int32_t kSmemLimit = 48 * 1024;  // default dynamic shared memory per block

// (v, id) ranks above (bv, bid): higher value, or equal value and lower id. id < 0 is
// "no candidate" and ranks below everything.
__device__ __forceinline__ bool ranks_above(float v, int32_t id, float bv, int32_t bid) {
  if (id < 0) return false;
  if (bid < 0) return true;
  return v > bv || (v == bv && id < bid);
}

// Tree sum to lane 0, then broadcast: every lane divides by the same bits (common.cuh's
// butterfly warp_sum may differ between lanes in the last bit).
__device__ __forceinline__ float warp_sum_broadcast(float v) {
  for (int off = 16; off > 0; off >>= 1) v += __shfl_down_sync(kFull, v, off);
  return __shfl_sync(kFull, v, 0);
}

// Per-warp shared memory: scores[E], choice[E], taken[E] (int), group_score[G], keep[G] (int).
__host__ __device__ inline int32_t route_smem_words(int32_t num_experts, int32_t groups) {
  return 3 * num_experts + 2 * groups;
}

__global__ void moe_route_kernel(const float* __restrict__ router_logits, const float* __restrict__ correction_bias,
                                 int32_t n_tokens, MoeRouting r, int32_t groups, int32_t* __restrict__ topk_ids,
                                 float* __restrict__ topk_weights) {
  extern __shared__ float route_smem[];
  const int32_t warp = int32_t(threadIdx.x >> 5);
  const int32_t lane = int32_t(threadIdx.x & 31);
  const int32_t token = int32_t(blockIdx.x) * int32_t(blockDim.x >> 5) + warp;
  if (token >= n_tokens) return;  // the kernel has no block-wide barrier, so a warp may leave

  const int32_t E = r.num_experts;
  float* scores = route_smem + int64_t(warp) * route_smem_words(E, groups);
  float* choice = scores + E;
  int32_t* taken = reinterpret_cast<int32_t*>(choice + E);
  float* group_score = reinterpret_cast<float*>(taken + E);
  int32_t* keep = reinterpret_cast<int32_t*>(group_score + groups);

  const float* logits = router_logits + int64_t(token) * E;
  // Scores. Each lane owns experts lane, lane + 32, ...; until the group step a lane only
  // touches its own entries.
  if (r.scoring == MoeScoring::Sigmoid) {
    for (int32_t e = lane; e < E; e += 32) scores[e] = 1.0f / (1.0f + expf(-logits[e]));
  } else {
    float mx = -INFINITY;
    for (int32_t e = lane; e < E; e += 32) {
      const float v = logits[e];
      scores[e] = v;
      mx = fmaxf(mx, v);
    }
    mx = warp_max(mx);
    float sum = 0.0f;
    for (int32_t e = lane; e < E; e += 32) {
      const float ex = expf(scores[e] - mx);
      scores[e] = ex;
      sum += ex;
    }
    sum = warp_sum_broadcast(sum);
    for (int32_t e = lane; e < E; e += 32) scores[e] = scores[e] / sum;
  }
  const bool biased = r.method == MoeTopkMethod::NoauxTc && correction_bias != nullptr;
  for (int32_t e = lane; e < E; e += 32) {
    choice[e] = biased ? scores[e] + correction_bias[e] : scores[e];
    taken[e] = 0;
  }

  if (groups > 0) {
    __syncwarp();  // a group's members belong to many lanes
    const int32_t per = E / groups;
    for (int32_t g = lane; g < groups; g += 32) {
      float best = -INFINITY, second = -INFINITY;
      for (int32_t e = g * per; e < (g + 1) * per; ++e) {
        const float v = choice[e];
        if (v > best) {
          second = best;
          best = v;
        } else if (v > second) {
          second = v;
        }
      }
      // noaux_tc: the two best summed (the config loader demands >= 2 experts per group;
      // with one, the group's best alone); group_limited_greedy: the best.
      group_score[g] = (r.method == MoeTopkMethod::NoauxTc && per >= 2) ? best + second : best;
    }
    __syncwarp();
    // Group g stays when fewer than topk_group groups rank above it (value, then lower index).
    for (int32_t g = lane; g < groups; g += 32) {
      const float v = group_score[g];
      int32_t rank = 0;
      for (int32_t h = 0; h < groups; ++h) rank += (group_score[h] > v || (group_score[h] == v && h < g)) ? 1 : 0;
      keep[g] = rank < r.topk_group ? 1 : 0;
    }
    __syncwarp();
    const float dropped = r.method == MoeTopkMethod::NoauxTc ? -INFINITY : 0.0f;
    for (int32_t e = lane; e < E; e += 32) {
      const int32_t g = e / per;
      if (g >= groups || !keep[g]) choice[e] = dropped;
    }
  }
  __syncwarp();  // lane 0 reads the chosen experts' scores / choice below

  const int32_t K = r.top_k;
  int32_t* ids_out = topk_ids + int64_t(token) * K;
  float* w_out = topk_weights + int64_t(token) * K;
  const bool weight_from_choice = r.method == MoeTopkMethod::GroupLimitedGreedy;
  float wsum = 0.0f;
  for (int32_t j = 0; j < K; ++j) {
    float bv = 0.0f;
    int32_t bid = -1;
    for (int32_t e = lane; e < E; e += 32)
      if (!taken[e] && ranks_above(choice[e], e, bv, bid)) {
        bv = choice[e];
        bid = e;
      }
    for (int off = 16; off > 0; off >>= 1) {
      const float ov = __shfl_xor_sync(kFull, bv, off);
      const int32_t oid = __shfl_xor_sync(kFull, bid, off);
      if (ranks_above(ov, oid, bv, bid)) {
        bv = ov;
        bid = oid;
      }
    }
    bid = __shfl_sync(kFull, bid, 0);  // one answer even if a NaN broke the order
    if (bid >= 0 && (bid & 31) == lane) taken[bid] = 1;  // only the owner lane reads taken[bid]
    if (lane == 0) {
      // bid < 0 only when top_k > num_experts: no expert, weight 0.
      const float w = bid < 0 ? 0.0f : (weight_from_choice ? choice[bid] : scores[bid]);
      ids_out[j] = bid;
      w_out[j] = w;
      wsum += w;
    }
  }
  if (lane == 0) {
    const bool normalise = r.norm_topk_prob && (K > 1 || r.normalize_top1);
    const bool scale = !normalise || r.scale_when_normalized;
    const float denom = wsum + 1e-20f;
    const float factor = r.routed_scaling_factor;
    for (int32_t j = 0; j < K; ++j) {
      float w = w_out[j];  // this thread's own store above
      if (normalise) w /= denom;
      if (scale) w *= factor;
      w_out[j] = w;
    }
  }
}

}  // namespace

void moe_route(const float* router_logits, const float* correction_bias, int32_t n_tokens, const MoeRouting& routing,
               int32_t* topk_ids, float* topk_weights, cudaStream_t stream) {
  if (n_tokens <= 0 || routing.num_experts <= 0 || routing.top_k <= 0) return;
  MoeRouting r = routing;
  int32_t groups = 0;
  if (r.method != MoeTopkMethod::Greedy) {
    groups = r.n_group > 0 ? r.n_group : 1;
    if (groups > r.num_experts) groups = r.num_experts;  // at least one expert per group
  }
  // Up to four warps (tokens) per block within the default 48 KB of shared memory; past
  // ~4000 experts even one warp's share exceeds it and the launch fails loudly
  // (cudaGetLastError), never silently.
  const size_t warp_bytes = size_t(route_smem_words(r.num_experts, groups)) * sizeof(float);
  int32_t warps = int32_t(size_t(kSmemLimit) / warp_bytes);
  warps = warps < 1 ? 1 : (warps > kMaxWarpsPerBlock ? kMaxWarpsPerBlock : warps);
  const size_t smem = warp_bytes * size_t(warps);
  const int32_t blocks = (n_tokens + warps - 1) / warps;
  moe_route_kernel<<<blocks, 32 * warps, smem, stream>>>(router_logits, correction_bias, n_tokens, r, groups,
                                                                   topk_ids, topk_weights);
}

}  // namespace warden::kernels
