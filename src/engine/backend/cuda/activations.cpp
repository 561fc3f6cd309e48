#include "activations.hpp"

#include <algorithm>

#include "kernels/kernel_types.cuh"

namespace warden::engine::cuda {

ActivationWidths ActivationWidths::of(const ModelConfig& c) {
  ActivationWidths w;
  w.hidden = c.hidden_size;
  const int64_t heads = c.num_heads;
  if (c.mla.enabled) {
    const MlaConfig& m = c.mla;
    const int64_t q_out = m.q_lora_rank ? m.q_lora_rank : heads * m.q_head_dim();
    w.qkv = q_out + m.kv_lora_rank + m.qk_rope_head_dim;
    w.q = m.q_lora_rank ? heads * m.q_head_dim() : 0;
    w.q_lora = m.q_lora_rank;
    w.kv_lora = m.kv_lora_rank;
    w.kv_up = heads * (m.qk_nope_head_dim + m.v_head_dim);
    w.k_full = heads * m.q_head_dim();
    w.v_full = heads * m.v_head_dim;
  } else {
    w.qkv = (heads + 2 * int64_t(c.num_kv_heads)) * c.head_dim;
  }
  w.attn = heads * c.v_head_dim();
  bool any_dense = false;
  for (int32_t l = 0; l < c.num_layers; ++l) any_dense |= !c.is_moe_layer(l);
  w.ffn_inter = std::max<int64_t>(any_dense ? c.intermediate_size : 0, c.moe.shared_intermediate);
  if (c.moe.num_experts > 0) {
    w.experts = c.moe.num_experts;
    w.top_k = c.moe.top_k;
    w.expert_inter = c.moe.expert_intermediate;
  }
  return w;
}

void Activations::ensure(int32_t rows) {
  if (rows <= rows_) return;
  const size_t r = size_t(rows), b = sizeof(kernels::bf16), i4 = sizeof(int32_t);
  const size_t rk = r * size_t(w_.top_k);
  x.ensure(r * w_.hidden * b);
  h.ensure(r * w_.hidden * b);
  delta.ensure(r * w_.hidden * b);
  qkv.ensure(r * w_.qkv * b);
  q.ensure(r * w_.q * b);
  q_lora.ensure(r * w_.q_lora * b);
  latent.ensure(r * w_.kv_lora * b);
  kv_up.ensure(r * w_.kv_up * b);
  k_full.ensure(r * w_.k_full * b);
  v_full.ensure(r * w_.v_full * b);
  attn.ensure(r * w_.attn * b);
  // The routed experts reuse the MLP buffers for their permuted rows.
  gate_up.ensure(std::max(r * 2 * w_.ffn_inter, rk * 2 * w_.expert_inter) * b);
  act.ensure(std::max(r * w_.ffn_inter, rk * w_.expert_inter) * b);
  if (w_.experts > 0) {
    x_perm.ensure(rk * w_.hidden * b);
    y_perm.ensure(rk * w_.hidden * b);
    router.ensure(r * w_.experts * sizeof(float));
    topk_ids.ensure(rk * i4);
    topk_weights.ensure(rk * sizeof(float));
    expert_offsets.ensure(size_t(w_.experts + 1) * i4);
    perm_to_assignment.ensure(rk * i4);
    assignment_to_perm.ensure(rk * i4);
    shared_gate.ensure(r * b);
  }
  rows_ = rows;
}

size_t Activations::bytes() const {
  size_t n = 0;
  for (const DeviceBuffer* d : {&x, &h, &delta, &qkv, &q, &q_lora, &latent, &kv_up, &k_full, &v_full, &attn, &gate_up,
                                &act, &x_perm, &y_perm, &router, &topk_ids, &topk_weights, &expert_offsets,
                                &perm_to_assignment, &assignment_to_perm, &shared_gate})
    n += d->bytes();
  return n;
}

}  // namespace warden::engine::cuda
