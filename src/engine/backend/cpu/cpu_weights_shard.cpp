// CpuWeights::shard: slicing loaded fp32 weights for one tensor-parallel rank.
#include <algorithm>
#include <stdexcept>

#include "warden/engine/backend/cpu/cpu_weights.hpp"
#include "warden/engine/parallel/shard_plan.hpp"

namespace warden::engine::cpu {

namespace {

// Output rows [begin, begin + count): contiguous, so a view.
Matrix row_range(const Matrix& m, int64_t begin, int64_t count) {
  if (begin < 0 || count < 0 || begin + count > m.rows) throw std::logic_error("shard row range outside the matrix");
  return Matrix{m.data + begin * m.cols, int32_t(count), m.cols};
}

const float* offset(const float* v, int64_t begin) { return v ? v + begin : nullptr; }

}  // namespace

std::shared_ptr<const CpuWeights> CpuWeights::shard(std::shared_ptr<const CpuWeights> full,
                                                    const parallel::ShardPlan& plan) {
  const ModelConfig& c = full->config();
  std::shared_ptr<CpuWeights> s(new CpuWeights(plan.shard_config));
  // Input columns [begin, begin + count) of every row: strided, so copied.
  auto col_range = [&s](const Matrix& m, int64_t begin, int64_t count) {
    if (begin < 0 || count < 0 || begin + count > m.cols) throw std::logic_error("shard column range outside the matrix");
    std::vector<float> out(size_t(m.rows) * size_t(count));
    for (int64_t r = 0; r < m.rows; ++r)
      std::copy_n(m.data + r * m.cols + begin, count, out.data() + r * count);
    s->owned_.push_back(std::move(out));
    return Matrix{s->owned_.back().data(), m.rows, int32_t(count)};
  };
  auto mlp = [&](const MlpWeights& w, const parallel::Range& cols) {
    return MlpWeights{row_range(w.gate, cols.begin, cols.size), row_range(w.up, cols.begin, cols.size),
                      col_range(w.down, cols.begin, cols.size)};
  };

  s->embed_ = full->embed_;
  s->final_norm_ = full->final_norm_;
  s->lm_head_ = row_range(full->lm_head_, plan.vocab.begin, plan.vocab.size);
  const parallel::Range& heads = plan.heads;
  const parallel::Range& kv = plan.kv_heads;
  for (const LayerWeights& f : full->layers_) {
    LayerWeights w;
    w.input_norm = f.input_norm;
    w.post_norm = f.post_norm;
    if (c.mla.enabled) {
      const MlaConfig& m = c.mla;
      const int64_t qh = m.q_head_dim(), up = m.qk_nope_head_dim + m.v_head_dim;
      // The q LoRA down-projection and the latent (with the shared rope key) are the
      // same for every head: replicated. Per-head expansions split by head.
      w.q_a = f.q_a;
      w.q_a_norm = f.q_a_norm;
      if (m.q_lora_rank) w.q_b = row_range(f.q_b, heads.begin * qh, heads.size * qh);
      else w.q = row_range(f.q, heads.begin * qh, heads.size * qh);
      w.kv_a = f.kv_a;
      w.kv_a_norm = f.kv_a_norm;
      w.kv_b = row_range(f.kv_b, heads.begin * up, heads.size * up);
      w.o = col_range(f.o, heads.begin * int64_t(m.v_head_dim), heads.size * int64_t(m.v_head_dim));
    } else {
      const int64_t d = c.head_dim;
      w.q = row_range(f.q, heads.begin * d, heads.size * d);
      w.k = row_range(f.k, kv.begin * d, kv.size * d);
      w.v = row_range(f.v, kv.begin * d, kv.size * d);
      w.q_bias = offset(f.q_bias, heads.begin * d);
      w.k_bias = offset(f.k_bias, kv.begin * d);
      w.v_bias = offset(f.v_bias, kv.begin * d);
      w.o = col_range(f.o, heads.begin * d, heads.size * d);
    }
    // o_proj's output is summed over ranks: its bias must be added once.
    w.o_bias = plan.adds_o_bias ? f.o_bias : nullptr;
    w.is_moe = f.is_moe;
    if (!f.is_moe) {
      w.mlp = mlp(f.mlp, plan.intermediate);
    } else {
      // Every expert split by columns, the router replicated: all ranks route alike.
      w.moe.router = f.moe.router;
      w.moe.router_bias = f.moe.router_bias;
      for (const MlpWeights& e : f.moe.experts) w.moe.experts.push_back(mlp(e, plan.expert_intermediate));
      w.moe.has_shared = f.moe.has_shared;
      if (f.moe.has_shared) w.moe.shared = mlp(f.moe.shared, plan.shared_intermediate);
      // sigmoid(x·gate) scales the shared output; it is linear in each rank's partial sum.
      w.moe.has_shared_gate = f.moe.has_shared_gate;
      w.moe.shared_gate = f.moe.shared_gate;
    }
    s->layers_.push_back(std::move(w));
  }
  s->base_ = std::move(full);
  return s;
}

}  // namespace warden::engine::cpu
