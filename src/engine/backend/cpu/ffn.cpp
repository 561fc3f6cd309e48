#include "warden/engine/backend/cpu/ffn.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "warden/engine/backend/cpu/ops.hpp"

namespace warden::engine::cpu {

void mlp_forward(const Gemm& gemm, const MlpWeights& w, const float* x, int32_t m, FfnScratch& s, float* out) {
  const int64_t inter = w.gate.rows;
  s.gate.resize(size_t(m * inter));
  s.up.resize(size_t(m * inter));
  gemm(x, m, w.gate, nullptr, s.gate.data());
  gemm(x, m, w.up, nullptr, s.up.data());
  silu_mul(s.gate.data(), s.up.data(), m * inter, s.gate.data());
  gemm(s.gate.data(), m, w.down, nullptr, out);
}

namespace {

// Indices of the k largest values, highest first; ties go to the lower index so the
// choice is deterministic.
void top_k_indices(const std::vector<float>& v, int32_t k, std::vector<int32_t>& out) {
  out.resize(v.size());
  std::iota(out.begin(), out.end(), 0);
  std::partial_sort(out.begin(), out.begin() + k, out.end(), [&](int32_t a, int32_t b) {
    return v[size_t(a)] != v[size_t(b)] ? v[size_t(a)] > v[size_t(b)] : a < b;
  });
  out.resize(size_t(k));
}

}  // namespace

void route_token(const MoeConfig& c, ModelFamily family, const float* logits, const float* correction_bias,
                 int32_t* experts, float* weights) {
  const int32_t n = c.num_experts;
  std::vector<float> scores(static_cast<size_t>(n));
  if (c.scoring == MoeScoringKind::Sigmoid) {
    for (int32_t e = 0; e < n; ++e) scores[size_t(e)] = 1.0f / (1.0f + std::exp(-logits[e]));
  } else {
    float mx = *std::max_element(logits, logits + n), sum = 0.0f;
    for (int32_t e = 0; e < n; ++e) sum += scores[size_t(e)] = std::exp(logits[e] - mx);
    for (auto& v : scores) v /= sum;
  }
  // What the experts are chosen by: the scores, biased under noaux_tc.
  std::vector<float> choice = scores;
  if (c.topk_method == MoeTopkKind::NoauxTc && correction_bias)
    for (int32_t e = 0; e < n; ++e) choice[size_t(e)] += correction_bias[e];
  std::vector<int32_t> order;
  if (c.topk_method != MoeTopkKind::Greedy) {
    const int32_t per = n / c.n_group;
    std::vector<float> group_score(static_cast<size_t>(c.n_group));
    for (int32_t g = 0; g < c.n_group; ++g) {
      std::vector<float> members(choice.begin() + g * per, choice.begin() + (g + 1) * per);
      if (c.topk_method == MoeTopkKind::NoauxTc) {  // sum of the group's two best
        top_k_indices(members, 2, order);
        group_score[size_t(g)] = members[size_t(order[0])] + members[size_t(order[1])];
      } else {  // group_limited_greedy: the group's best
        group_score[size_t(g)] = *std::max_element(members.begin(), members.end());
      }
    }
    top_k_indices(group_score, c.topk_group, order);
    std::vector<bool> keep(static_cast<size_t>(c.n_group), false);
    for (int32_t g : order) keep[size_t(g)] = true;
    // Experts of dropped groups: -inf for noaux_tc, 0 for group_limited_greedy (as HF).
    const float dropped = c.topk_method == MoeTopkKind::NoauxTc ? -INFINITY : 0.0f;
    for (int32_t e = 0; e < n; ++e)
      if (!keep[size_t(e / per)]) choice[size_t(e)] = dropped;
  }
  top_k_indices(choice, c.top_k, order);
  float sum = 0.0f;
  for (int32_t k = 0; k < c.top_k; ++k) {
    experts[k] = order[size_t(k)];
    // group_limited_greedy takes the weight from the masked scores (0 if a dropped
    // group's expert had to be chosen); the others from the unbiased scores.
    weights[k] = c.topk_method == MoeTopkKind::GroupLimitedGreedy ? choice[size_t(experts[k])] : scores[size_t(experts[k])];
    sum += weights[k];
  }
  if (family == ModelFamily::Qwen2Moe) {
    if (c.norm_topk_prob)
      for (int32_t k = 0; k < c.top_k; ++k) weights[k] /= sum;
    return;
  }
  // DeepSeek-V2: renormalise (top_k > 1) or else scale; DeepSeek-V3: renormalise, then scale.
  const bool normalise = c.norm_topk_prob && c.top_k > 1;
  if (normalise)
    for (int32_t k = 0; k < c.top_k; ++k) weights[k] /= (sum + 1e-20f);
  if (!normalise || c.scale_when_normalized)
    for (int32_t k = 0; k < c.top_k; ++k) weights[k] *= float(c.routed_scaling_factor);
}

void moe_forward(const Gemm& gemm, const MoeWeights& w, const MoeConfig& c, ModelFamily family, const float* x, int32_t m,
                 int32_t hidden, FfnScratch& s, float* out) {
  const int32_t k = c.top_k;
  s.router.resize(size_t(m) * size_t(c.num_experts));
  gemm(x, m, w.router, nullptr, s.router.data());
  s.picked.resize(size_t(m * k));
  s.picked_weight.resize(size_t(m * k));
  for (int32_t r = 0; r < m; ++r)
    route_token(c, family, s.router.data() + int64_t(r) * c.num_experts, w.router_bias, s.picked.data() + r * k,
                s.picked_weight.data() + r * k);

  std::fill(out, out + int64_t(m) * hidden, 0.0f);
  // Experts in id order; each gathers its tokens (in row order) into one GEMM.
  std::vector<int32_t> rows;
  std::vector<float> row_weight;
  for (int32_t e = 0; e < c.num_experts; ++e) {
    rows.clear();
    row_weight.clear();
    for (int32_t r = 0; r < m; ++r)
      for (int32_t j = 0; j < k; ++j)
        if (s.picked[size_t(r * k + j)] == e) {
          rows.push_back(r);
          row_weight.push_back(s.picked_weight[size_t(r * k + j)]);
        }
    if (rows.empty()) continue;
    const int32_t n = int32_t(rows.size());
    s.rows_in.resize(size_t(n) * hidden);
    s.rows_out.resize(size_t(n) * hidden);
    for (int32_t i = 0; i < n; ++i)
      std::copy_n(x + int64_t(rows[size_t(i)]) * hidden, hidden, s.rows_in.data() + int64_t(i) * hidden);
    mlp_forward(gemm, w.experts[size_t(e)], s.rows_in.data(), n, s, s.rows_out.data());
    for (int32_t i = 0; i < n; ++i) {
      float* dst = out + int64_t(rows[size_t(i)]) * hidden;
      const float* src = s.rows_out.data() + int64_t(i) * hidden;
      for (int32_t t = 0; t < hidden; ++t) dst[t] += row_weight[size_t(i)] * src[t];
    }
  }
  if (w.has_shared) {
    s.shared.resize(size_t(m) * hidden);
    mlp_forward(gemm, w.shared, x, m, s, s.shared.data());
    for (int32_t r = 0; r < m; ++r) {
      float gate = 1.0f;
      if (w.has_shared_gate) {
        float logit;
        gemm(x + int64_t(r) * hidden, 1, w.shared_gate, nullptr, &logit);
        gate = 1.0f / (1.0f + std::exp(-logit));
      }
      float* dst = out + int64_t(r) * hidden;
      const float* src = s.shared.data() + int64_t(r) * hidden;
      for (int32_t t = 0; t < hidden; ++t) dst[t] += gate * src[t];
    }
  }
}

}  // namespace warden::engine::cpu
