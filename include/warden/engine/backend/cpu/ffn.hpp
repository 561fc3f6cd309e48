#pragma once
// Feed-forward blocks: the SwiGLU MLP and the mixture-of-experts layer built from it.
// Both take one row group and multiply through its Gemm (see ops.hpp).
#include <cstdint>
#include <vector>

#include "warden/engine/backend/cpu/cpu_weights.hpp"
#include "warden/engine/backend/cpu/ops.hpp"
#include "warden/engine/model/model_config.hpp"

namespace warden::engine::cpu {

// Reusable scratch so the hot path does not allocate once warmed up.
struct FfnScratch {
  std::vector<float> gate, up, act, rows_in, rows_out, router, shared;
  std::vector<int32_t> picked;
  std::vector<float> picked_weight;
};

// out[m, hidden] = down(silu(gate(x)) * up(x))
void mlp_forward(const Gemm& gemm, const MlpWeights& w, const float* x, int32_t m, FfnScratch& scratch, float* out);

// Router (softmax or sigmoid scores, greedy or group-limited top-k, optional renormalisation and
// routed_scaling_factor), routed experts over their tokens, plus the shared experts.
void moe_forward(const Gemm& gemm, const MoeWeights& w, const MoeConfig& config, ModelFamily family, const float* x, int32_t m,
                 int32_t hidden, FfnScratch& scratch, float* out);

// The router's choice for one token: expert ids and their weights. correction_bias is
// DeepSeek-V3's e_score_correction_bias (noaux_tc only, else null).
void route_token(const MoeConfig& config, ModelFamily family, const float* router_logits,
                 const float* correction_bias, int32_t* experts, float* weights);

}  // namespace warden::engine::cpu
