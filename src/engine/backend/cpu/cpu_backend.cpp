#include "warden/engine/backend/cpu/cpu_backend.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "warden/engine/backend/cpu/paged_attention.hpp"
#include "warden/engine/backend/cpu/rowwise_gemm.hpp"

namespace warden::engine::cpu {

CpuBackend::CpuBackend(const std::string& model_dir, int threads)
    : config_(load_model_config(model_dir)),
      local_(config_),
      weights_(std::make_shared<const CpuWeights>(config_, model_dir)),
      rotary_(config_),
      threads_(threads) {}

CpuBackend::CpuBackend(const ModelConfig& config, std::shared_ptr<const CpuWeights> shard,
                       const parallel::ShardPlan& plan, parallel::Communicator& comm, int threads)
    : config_(config),
      local_(plan.shard_config),
      weights_(std::move(shard)),
      comm_(&comm),
      plan_(plan),
      rotary_(config_),
      threads_(threads) {
  if (comm.rank() != plan.rank || comm.world() != plan.world)
    throw std::logic_error("CpuBackend: communicator rank/world differ from the shard plan's");
}

// Only this rank's KV heads (local_): a rank caches what its own query heads read.
void CpuBackend::allocate_kv(int32_t num_blocks, int32_t block_tokens) {
  kv_.allocate(local_.num_layers, num_blocks, block_tokens, local_.num_kv_heads * local_.k_head_dim(),
               local_.num_kv_heads * local_.v_head_dim());
}

size_t CpuBackend::kv_bytes_per_block(int32_t block_tokens) const {
  return PagedKvPool::bytes_per_block(local_.num_layers, block_tokens, local_.num_kv_heads * local_.k_head_dim(),
                                      local_.num_kv_heads * local_.v_head_dim());
}

int32_t CpuBackend::max_context() const {
  return int32_t(std::min<int64_t>(config_.max_position_embeddings, INT32_MAX));
}

void CpuBackend::plan_rows(const ForwardBatch& batch) {
  int64_t total = 0, small = 0;
  for (const auto& s : batch.seqs) {
    if (s.num_new_tokens < 0 || s.num_cached_tokens < 0) throw std::logic_error("negative token count in a slice");
    total += s.num_new_tokens;
    if (s.num_new_tokens < kBlasMinTokens) small += s.num_new_tokens;
  }
  if (total != int64_t(batch.tokens.size()))
    throw std::logic_error("ForwardBatch has " + std::to_string(batch.tokens.size()) + " tokens but its slices claim " +
                           std::to_string(total));
  row_start_.assign(batch.seqs.size(), 0);
  groups_.clear();
  if (small > 0) groups_.push_back(RowGroup{0, int32_t(small), Gemm{true, &threads_}});
  int64_t next_small = 0, next_big = small;
  for (size_t s = 0; s < batch.seqs.size(); ++s) {
    const int32_t n = batch.seqs[s].num_new_tokens;
    if (n < kBlasMinTokens) {
      row_start_[s] = next_small;
      next_small += n;
    } else {
      row_start_[s] = next_big;
      groups_.push_back(RowGroup{next_big, n, Gemm{false, &threads_}});
      next_big += n;
    }
  }
}

void CpuBackend::forward(const ForwardBatch& batch, std::vector<float>& logits) {
  if (!kv_.allocated()) throw std::logic_error("CpuBackend::forward before allocate_kv");
  const ModelConfig& c = local_;
  plan_rows(batch);
  const int64_t hidden = c.hidden_size, half = rotary_.half(), total = int64_t(batch.tokens.size());

  x_.resize(size_t(total * hidden));
  cos_.resize(size_t(total * half));
  sin_.resize(size_t(total * half));
  int64_t src = 0;
  for (size_t s = 0; s < batch.seqs.size(); ++s) {
    const SequenceSlice& seq = batch.seqs[s];
    for (int32_t i = 0; i < seq.num_new_tokens; ++i, ++src) {
      const int32_t tok = batch.tokens[size_t(src)];
      if (tok < 0 || tok >= c.vocab_size) throw std::out_of_range("token id " + std::to_string(tok) + " outside vocab");
      const int64_t r = row_start_[s] + i;
      std::copy_n(weights_->embed() + int64_t(tok) * hidden, hidden, x_.data() + r * hidden);
      // One cos/sin row per token, shared by every layer.
      rotary_.angles(int64_t(seq.num_cached_tokens) + i, cos_.data() + r * half, sin_.data() + r * half);
    }
  }
  for (int32_t l = 0; l < c.num_layers; ++l) {
    attention_block(l, batch);
    ffn_block(l);
  }
  lm_head(batch, logits);
}

void CpuBackend::project_gqa(const LayerWeights& w, int64_t total) {
  const ModelConfig& c = local_;
  const int64_t hidden = c.hidden_size, half = rotary_.half();
  const int64_t q_dim = int64_t(c.num_heads) * c.head_dim, kv_dim = int64_t(c.num_kv_heads) * c.head_dim;
  for (const RowGroup& g : groups_) {
    const float* h = h_.data() + g.row0 * hidden;
    g.gemm(h, g.rows, w.q, w.q_bias, q_.data() + g.row0 * q_dim);
    g.gemm(h, g.rows, w.k, w.k_bias, k_.data() + g.row0 * kv_dim);
    g.gemm(h, g.rows, w.v, w.v_bias, v_.data() + g.row0 * kv_dim);
  }
  for (int64_t r = 0; r < total; ++r) {
    rotary_.apply(q_.data() + r * q_dim, c.num_heads, cos_.data() + r * half, sin_.data() + r * half);
    rotary_.apply(k_.data() + r * kv_dim, c.num_kv_heads, cos_.data() + r * half, sin_.data() + r * half);
  }
}

void CpuBackend::project_mla(const LayerWeights& w, int64_t total) {
  // HF DeepseekV2Attention: q (optionally through the q LoRA), the compressed KV latent
  // plus one rope key shared by all heads, latent → per-head k_nope and v. Its two
  // LoRA norms are built without an eps argument, so they use the class default 1e-6.
  constexpr float kLoraNormEps = 1e-6f;
  const ModelConfig& c = local_;
  const MlaConfig& m = c.mla;
  const int64_t hidden = c.hidden_size, half = rotary_.half(), heads = c.num_heads;
  const int64_t qh = m.q_head_dim(), q_dim = heads * qh, v_dim = heads * m.v_head_dim;
  const int64_t a_dim = m.kv_lora_rank + m.qk_rope_head_dim, up_dim = heads * (m.qk_nope_head_dim + m.v_head_dim);
  latent_.resize(size_t(total * a_dim));
  kv_up_.resize(size_t(total * up_dim));
  if (m.q_lora_rank) q_lora_.resize(size_t(total * m.q_lora_rank));
  for (const RowGroup& g : groups_) {
    const float* h = h_.data() + g.row0 * hidden;
    if (m.q_lora_rank) {
      float* qa = q_lora_.data() + g.row0 * m.q_lora_rank;
      g.gemm(h, g.rows, w.q_a, nullptr, qa);
      for (int32_t r = 0; r < g.rows; ++r)
        rms_norm(qa + int64_t(r) * m.q_lora_rank, w.q_a_norm, kLoraNormEps, m.q_lora_rank,
                 qa + int64_t(r) * m.q_lora_rank);
      g.gemm(qa, g.rows, w.q_b, nullptr, q_.data() + g.row0 * q_dim);
    } else {
      g.gemm(h, g.rows, w.q, nullptr, q_.data() + g.row0 * q_dim);
    }
    float* lat = latent_.data() + g.row0 * a_dim;
    g.gemm(h, g.rows, w.kv_a, nullptr, lat);
    // Normalise the latent part into a packed buffer (kv_b wants contiguous rows); the
    // rope key after it stays in latent_ for rotation below.
    latent_norm_.resize(size_t(g.rows) * size_t(m.kv_lora_rank));
    for (int32_t r = 0; r < g.rows; ++r)
      rms_norm(lat + int64_t(r) * a_dim, w.kv_a_norm, kLoraNormEps, m.kv_lora_rank,
               latent_norm_.data() + int64_t(r) * m.kv_lora_rank);
    g.gemm(latent_norm_.data(), g.rows, w.kv_b, nullptr, kv_up_.data() + g.row0 * up_dim);
  }
  const int64_t nope = m.qk_nope_head_dim, rope = m.qk_rope_head_dim, vd = m.v_head_dim;
  for (int64_t r = 0; r < total; ++r) {
    const float* cs = cos_.data() + r * half;
    const float* sn = sin_.data() + r * half;
    rotary_.apply_interleaved(q_.data() + r * q_dim + nope, int32_t(heads), cs, sn, qh);
    float* k_pe = latent_.data() + r * a_dim + m.kv_lora_rank;
    rotary_.apply_interleaved(k_pe, 1, cs, sn, rope);
    const float* up = kv_up_.data() + r * up_dim;
    for (int64_t hd = 0; hd < heads; ++hd) {
      float* k = k_.data() + r * q_dim + hd * qh;
      std::copy_n(up + hd * (nope + vd), nope, k);
      std::copy_n(k_pe, rope, k + nope);
      std::copy_n(up + hd * (nope + vd) + nope, vd, v_.data() + r * v_dim + hd * vd);
    }
  }
}

void CpuBackend::attention_block(int32_t l, const ForwardBatch& batch) {
  const ModelConfig& c = local_;
  const LayerWeights& w = weights_->layers()[size_t(l)];
  const int64_t hidden = c.hidden_size;
  const int64_t q_dim = int64_t(c.num_heads) * c.k_head_dim(), o_dim = int64_t(c.num_heads) * c.v_head_dim();
  const int64_t k_row = int64_t(c.num_kv_heads) * c.k_head_dim(), v_row = int64_t(c.num_kv_heads) * c.v_head_dim();
  const int64_t total = int64_t(batch.tokens.size());
  h_.resize(size_t(total * hidden));
  q_.resize(size_t(total * q_dim));
  k_.resize(size_t(total * k_row));
  v_.resize(size_t(total * v_row));
  attn_.resize(size_t(total * o_dim));
  proj_.resize(size_t(total * hidden));
  for (int64_t r = 0; r < total; ++r)
    rms_norm(x_.data() + r * hidden, w.input_norm, float(c.rms_norm_eps), c.hidden_size, h_.data() + r * hidden);
  if (c.mla.enabled) project_mla(w, total);
  else project_gqa(w, total);

  const AttentionShape shape{c.num_heads, c.num_kv_heads, c.k_head_dim(), c.v_head_dim(), float(c.softmax_scale())};
  for (size_t s = 0; s < batch.seqs.size(); ++s) {
    const SequenceSlice& seq = batch.seqs[s];
    const int32_t n = seq.num_new_tokens;
    if (n == 0) continue;
    const int64_t r0 = row_start_[s];
    for (int32_t i = 0; i < n; ++i) {
      const int64_t r = r0 + i, pos = int64_t(seq.num_cached_tokens) + i;
      std::copy_n(k_.data() + r * k_row, k_row, kv_.key(l, seq.block_table, pos));
      std::copy_n(v_.data() + r * v_row, v_row, kv_.value(l, seq.block_table, pos));
    }
    paged_attention(shape, q_.data() + r0 * q_dim, n, seq.num_cached_tokens, l, seq.block_table, kv_, threads_,
                    attn_.data() + r0 * o_dim);
  }
  for (const RowGroup& g : groups_)
    g.gemm(attn_.data() + g.row0 * o_dim, g.rows, w.o, w.o_bias, proj_.data() + g.row0 * hidden);
  // Row-parallel o_proj: each rank holds a partial sum over its heads.
  if (comm_) comm_->all_reduce_sum(proj_.data(), size_t(total * hidden));
  add_inplace(x_.data(), proj_.data(), total * hidden);
}

void CpuBackend::ffn_block(int32_t l) {
  const ModelConfig& c = local_;
  const LayerWeights& w = weights_->layers()[size_t(l)];
  const int64_t hidden = c.hidden_size, total = int64_t(x_.size()) / hidden;
  for (int64_t r = 0; r < total; ++r)
    rms_norm(x_.data() + r * hidden, w.post_norm, float(c.rms_norm_eps), c.hidden_size, h_.data() + r * hidden);
  for (const RowGroup& g : groups_) {
    const float* h = h_.data() + g.row0 * hidden;
    float* out = proj_.data() + g.row0 * hidden;
    if (w.is_moe)
      moe_forward(g.gemm, w.moe, c.moe, c.family, h, g.rows, c.hidden_size, ffn_scratch_, out);
    else
      mlp_forward(g.gemm, w.mlp, h, g.rows, ffn_scratch_, out);
  }
  // Row-parallel down_proj (of the MLP or of every expert): a partial sum per rank.
  if (comm_) comm_->all_reduce_sum(proj_.data(), size_t(total * hidden));
  add_inplace(x_.data(), proj_.data(), total * hidden);
}

void CpuBackend::lm_head(const ForwardBatch& batch, std::vector<float>& logits) {
  // Final norm and LM head only for the last row of slices that need logits, all in
  // one rowwise GEMM: the head (often the largest matrix) is read once per step.
  const ModelConfig& c = config_;
  const int64_t hidden = c.hidden_size;
  int32_t rows = 0;
  head_in_.clear();
  for (size_t s = 0; s < batch.seqs.size(); ++s) {
    const SequenceSlice& seq = batch.seqs[s];
    if (!seq.need_logits || seq.num_new_tokens == 0) continue;
    const int64_t r = row_start_[s] + seq.num_new_tokens - 1;
    head_in_.resize(size_t(rows + 1) * size_t(hidden));
    rms_norm(x_.data() + r * hidden, weights_->final_norm(), float(c.rms_norm_eps), c.hidden_size,
             head_in_.data() + int64_t(rows) * hidden);
    ++rows;
  }
  logits.resize(size_t(rows) * size_t(c.vocab_size));
  if (!comm_) {
    rowwise_linear(head_in_.data(), rows, weights_->lm_head(), nullptr, logits.data(), threads_);
    return;
  }
  // Vocab-parallel: this rank's rows of the head give a [rows, vocab_chunk] slab (zero
  // padded on a short last shard); the gather lines the slabs up by rank.
  if (rows == 0) return;  // same batch on every rank: all skip the gather together
  const Matrix& head = weights_->lm_head();
  const int64_t chunk = plan_.vocab_chunk, world = plan_.world;
  head_out_.assign(size_t(rows) * size_t(chunk), 0.0f);
  if (head.rows == chunk) {
    rowwise_linear(head_in_.data(), rows, head, nullptr, head_out_.data(), threads_);
  } else if (head.rows > 0) {
    gathered_.resize(size_t(rows) * size_t(head.rows));
    rowwise_linear(head_in_.data(), rows, head, nullptr, gathered_.data(), threads_);
    for (int64_t r = 0; r < rows; ++r)
      std::copy_n(gathered_.data() + r * head.rows, head.rows, head_out_.data() + r * chunk);
  }
  gathered_.resize(size_t(world * rows * chunk));
  comm_->all_gather(head_out_.data(), head_out_.size(), gathered_.data());
  for (int64_t k = 0; k < world; ++k) {
    const int64_t v0 = std::min<int64_t>(c.vocab_size, k * chunk), width = std::min<int64_t>(c.vocab_size, v0 + chunk) - v0;
    for (int64_t r = 0; r < rows; ++r)
      std::copy_n(gathered_.data() + (k * rows + r) * chunk, width, logits.data() + r * c.vocab_size + v0);
  }
}

}  // namespace warden::engine::cpu
