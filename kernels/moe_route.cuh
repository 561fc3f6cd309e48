#pragma once
// MoE router: per token, scores from the gate logits, the top-k experts and their
// weights, with every routing rule the CPU backend implements (src/engine/backend/cpu/ffn.cpp
// is the reference): softmax or sigmoid scoring; greedy, DeepSeek-V2 group-limited
// greedy (best topk_group of n_group groups by their max score) or DeepSeek-V3 noaux_tc
// (scores + e_score_correction_bias choose, groups ranked by their top-2 sum, weights
// from the unbiased scores); norm_topk_prob; routed_scaling_factor. Ties go to the
// lower expert id, so the choice is deterministic.
#include "kernels/kernel_types.cuh"

namespace warden::kernels {

enum class MoeScoring : int32_t { Softmax, Sigmoid };
enum class MoeTopkMethod : int32_t { Greedy, GroupLimitedGreedy, NoauxTc };

struct MoeRouting {
  int32_t num_experts = 0;
  int32_t top_k = 0;
  MoeScoring scoring = MoeScoring::Softmax;
  MoeTopkMethod method = MoeTopkMethod::Greedy;
  int32_t n_group = 1;
  int32_t topk_group = 1;
  bool norm_topk_prob = false;
  float routed_scaling_factor = 1.0f;
  bool scale_when_normalized = false;  // DeepSeek-V3 scales after normalising; V2 only when not
  // DeepSeek renormalises only when top_k > 1; Qwen2-MoE (HF Qwen2MoeSparseMoeBlock) renormalises
  // a single choice too (weight 1). Qwen2-MoE maps to {norm_topk_prob, normalize_top1 = true,
  // routed_scaling_factor = 1}, the CPU route_token's Qwen2Moe branch.
  bool normalize_top1 = false;
};

// router_logits: [n_tokens][num_experts] fp32 (the gate GEMM writes fp32, as HF computes
// the gate in fp32). correction_bias: [num_experts] fp32, noaux_tc only (else null).
// topk_ids / topk_weights: [n_tokens][top_k], in descending score order.
void moe_route(const float* router_logits, const float* correction_bias, int32_t n_tokens, const MoeRouting& routing,
               int32_t* topk_ids, float* topk_weights, cudaStream_t stream);

}  // namespace warden::kernels
