#include "cuda_backend.hpp"

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "cuda_check.hpp"
#include "kernels/convert.cuh"
#include "kernels/embedding.cuh"
#include "kernels/kv_cache_write.cuh"
#include "kernels/moe_grouped_gemm.cuh"
#include "kernels/moe_permute.cuh"
#include "kernels/moe_route.cuh"
#include "kernels/paged_attention.cuh"
#include "kernels/rms_norm.cuh"
#include "kernels/rope.cuh"
#include "kernels/sampling.cuh"
#include "kernels/silu_mul.cuh"

namespace warden::engine::cuda {

namespace {

// HF DeepseekV2Attention builds its two LoRA norms without an eps argument (class
// default 1e-6), whatever rms_norm_eps says — as the CPU backend does.
constexpr float kLoraNormEps = 1e-6f;
// Device memory kept out of the KV budget for what is allocated after it and not
// counted separately: the rope table, cuBLAS's own allocations, the CUDA context's
// growth. (The decode split-K scratch is counted: paged_decode_attention_max_workspace_bytes.)
constexpr size_t kBudgetHeadroom = size_t(256) << 20;

kernels::MoeRouting routing_of(const ModelConfig& c) {
  const MoeConfig& m = c.moe;
  kernels::MoeRouting r;
  r.num_experts = m.num_experts;
  r.top_k = m.top_k;
  // The kernels keep their own enums (no warden headers in kernels/): mapped once at load.
  switch (m.scoring.value()) {
    case MoeScoringKind::Softmax: r.scoring = kernels::MoeScoring::Softmax; break;
    case MoeScoringKind::Sigmoid: r.scoring = kernels::MoeScoring::Sigmoid; break;
  }
  switch (m.topk_method.value()) {
    case MoeTopkKind::Greedy: r.method = kernels::MoeTopkMethod::Greedy; break;
    case MoeTopkKind::GroupLimitedGreedy: r.method = kernels::MoeTopkMethod::GroupLimitedGreedy; break;
    case MoeTopkKind::NoauxTc: r.method = kernels::MoeTopkMethod::NoauxTc; break;
  }
  r.n_group = std::max(1, m.n_group);
  r.topk_group = std::max(1, m.topk_group);
  r.norm_topk_prob = m.norm_topk_prob;
  // Qwen2-MoE never scales by routed_scaling_factor (its config has none).
  r.routed_scaling_factor = c.family == ModelFamily::Qwen2Moe ? 1.0f : float(m.routed_scaling_factor);
  r.scale_when_normalized = m.scale_when_normalized;
  r.normalize_top1 = c.family == ModelFamily::Qwen2Moe;
  return r;
}

void copy_2d(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width, size_t height,
             cudaStream_t stream) {
  if (width == 0 || height == 0) return;
  WARDEN_CUDA_CHECK(cudaMemcpy2DAsync(dst, dpitch, src, spitch, width, height, cudaMemcpyDeviceToDevice, stream));
}

// The attention kernels return without doing anything for head widths they do not
// support, so such a model must be refused here, loudly.
void check_supported(const ModelConfig& c) {
  auto ok_dim = [](int32_t d) { return d > 0 && d % 8 == 0 && d <= 256; };
  if (!ok_dim(c.k_head_dim()) || !ok_dim(c.v_head_dim()))
    throw std::runtime_error("CUDA backend: head widths K " + std::to_string(c.k_head_dim()) + " / V " +
                             std::to_string(c.v_head_dim()) + " unsupported (multiples of 8 up to 256)");
  if (c.num_kv_heads <= 0 || c.num_heads % c.num_kv_heads != 0)
    throw std::runtime_error("CUDA backend: num_attention_heads must be a multiple of num_key_value_heads");
  if (c.rope_dim() % 2 != 0) throw std::runtime_error("CUDA backend: odd rotary width");
}

}  // namespace

CudaBackend::CudaBackend(const std::string& model_dir, int device)
    : device_(device), config_(load_model_config(model_dir)), act_(config_) {
  check_supported(config_);
  WARDEN_CUDA_CHECK(cudaSetDevice(device_));
  WARDEN_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  try {
    weights_ = std::make_unique<DeviceWeights>(config_, model_dir);
    gemm_ = std::make_unique<CublasGemm>(stream_);
  } catch (...) {
    cudaStreamDestroy(stream_);
    throw;
  }
  attn_scale_ = float(config_.softmax_scale());
  routing_ = routing_of(config_);
}

CudaBackend::~CudaBackend() {
  // No throwing here: a poisoned context fails these calls, and that is fine.
  (void)cudaSetDevice(device_);
  if (stream_) (void)cudaStreamSynchronize(stream_);
  gemm_.reset();
  if (stream_) (void)cudaStreamDestroy(stream_);
}

template <class Fn>
void CudaBackend::guarded(Fn&& fn) {
  if (!healthy_.load())
    throw CudaError(name() + " is unusable after an earlier device error (the CUDA context is poisoned)", true);
  try {
    // The engine thread is not the thread that built the backend: the current device is
    // per host thread.
    WARDEN_CUDA_CHECK(cudaSetDevice(device_));
    fn();
  } catch (const CudaError& e) {
    if (e.sticky()) healthy_.store(false);
    drain();
    throw;
  } catch (...) {
    drain();
    throw;
  }
}

void CudaBackend::drain() noexcept {
  // A step that threw part-way (a cuBLAS shape without an algorithm, an out-of-memory
  // buffer growth) may have left work queued: the metadata upload still reading the
  // pinned buffer the next step rewrites, kernels still using buffers the next step may
  // reallocate. Wait for it here; a fault it surfaces poisons the backend as usual.
  if (!stream_) return;
  const cudaError_t err = cudaStreamSynchronize(stream_);
  if (err != cudaSuccess) {
    if (is_sticky(err)) healthy_.store(false);
    else (void)cudaGetLastError();
  }
}

int32_t CudaBackend::max_context() const {
  return int32_t(std::min<int64_t>(config_.max_position_embeddings, INT32_MAX));
}

size_t CudaBackend::kv_bytes_per_block(int32_t block_tokens) const {
  const kernels::PagedKvLayout layout{config_.num_kv_heads, config_.k_head_dim(), config_.v_head_dim(), block_tokens};
  return DeviceKvPool::bytes_per_block(config_.num_layers, layout);
}

void CudaBackend::allocate_kv(int32_t num_blocks, int32_t block_tokens) {
  // A KV slot (block * block_tokens + offset) travels to the kernels as an int32.
  if (num_blocks > 0 && block_tokens > 0 && int64_t(num_blocks) * block_tokens > INT32_MAX)
    throw std::invalid_argument(name() + ": " + std::to_string(num_blocks) + " KV blocks of " +
                                std::to_string(block_tokens) + " tokens exceed the int32 slot range");
  guarded([&] {
    const kernels::PagedKvLayout layout{config_.num_kv_heads, config_.k_head_dim(), config_.v_head_dim(), block_tokens};
    kv_.allocate(config_.num_layers, num_blocks, layout);
    // No sequence can outgrow the pool, so neither need the rope positions.
    const int64_t positions = std::min<int64_t>(max_context(), int64_t(num_blocks) * block_tokens);
    rope_.build(config_, positions);
    // The decode scratch for the longest steps prepare() announced, now that the longest
    // context is known (kv_memory_budget kept at least this much out of the pool).
    decode_workspace_.ensure(kernels::paged_decode_attention_max_workspace_bytes(max_seqs_, positions, layout, heads()));
  });
}

kernels::PagedAttentionBatch CudaBackend::decode_batch() const {
  return kernels::PagedAttentionBatch{meta_.n_decode, meta_.decode_tables, meta_.decode_max_blocks,
                                      meta_.decode_context, meta_.decode_max_context};
}

kernels::AttentionHeads CudaBackend::heads() const { return kernels::AttentionHeads{config_.num_heads, attn_scale_}; }

void CudaBackend::ensure_logits(int32_t rows) {
  logits_.ensure(size_t(std::max(rows, 1)) * size_t(config_.vocab_size) * sizeof(float));
}

void CudaBackend::prepare(int32_t max_batched_tokens, int32_t max_seqs) {
  guarded([&] {
    const int32_t rows = std::max(1, max_batched_tokens), seqs = std::max(1, max_seqs);
    max_seqs_ = std::max(max_seqs_, seqs);
    act_.ensure(rows);
    ensure_logits(seqs);
    sampled_ids_.ensure(size_t(seqs) * sizeof(int32_t));
    host_ids_.ensure(size_t(seqs) * sizeof(int32_t));
    sample_workspace_.ensure(kernels::sample_workspace_bytes(seqs, config_.vocab_size));
    if (config_.moe.num_experts > 0)
      moe_workspace_.ensure(kernels::moe_align_workspace_bytes(rows, config_.moe.top_k, config_.moe.num_experts));
  });
}

size_t CudaBackend::kv_memory_budget(double fraction) const {
  WARDEN_CUDA_CHECK(cudaSetDevice(device_));
  size_t free_bytes = 0, total_bytes = 0;
  WARDEN_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
  // Everything in use on the device counts (other processes' memory too): the pool
  // gets what is left of fraction × total.
  const double allowed = fraction * double(total_bytes);
  const double used = double(total_bytes - free_bytes);
  // The decode scratch allocate_kv() will take, at its largest (any context the model allows).
  const kernels::PagedKvLayout layout{config_.num_kv_heads, config_.k_head_dim(), config_.v_head_dim(), 16};
  const size_t decode = kernels::paged_decode_attention_max_workspace_bytes(max_seqs_, max_context(), layout, heads());
  const double decode_more = double(decode > decode_workspace_.bytes() ? decode - decode_workspace_.bytes() : 0);
  const double budget = allowed - used - decode_more - double(kBudgetHeadroom);
  if (budget < double(kv_bytes_per_block(16)))
    throw std::runtime_error(name() + ": gpu_memory_fraction " + std::to_string(fraction) + " of " +
                             std::to_string(total_bytes >> 20) + " MiB leaves no room for the KV cache (" +
                             std::to_string(size_t(used) >> 20) + " MiB already in use: weights, activations, others)");
  return size_t(budget);
}

void CudaBackend::run_model(const ForwardBatch& batch, const std::vector<DeviceSampling>* sampling) {
  if (!kv_.allocated()) throw std::logic_error("CudaBackend::forward before allocate_kv");
  const ModelConfig& c = config_;
  meta_.build(batch, sampling,
              StepLimits{c.vocab_size, kv_.layout().block_tokens, kv_.num_blocks(), rope_.positions()}, stream_);
  const int32_t rows = meta_.rows;
  if (rows == 0) return;
  // Grow what this step needs before the first launch (a cudaFree inside ensure() waits
  // for the device, so nothing queued still uses the old memory).
  act_.ensure(rows);
  if (meta_.n_logits > 0) ensure_logits(meta_.n_logits);
  if (c.moe.num_experts > 0)
    moe_workspace_.ensure(kernels::moe_align_workspace_bytes(rows, c.moe.top_k, c.moe.num_experts));
  meta_.decode_plan = {};
  if (meta_.n_decode > 0) {
    // Planned once for every layer of the step; the workspace was sized in allocate_kv
    // for prepare()'s max_seqs and grows here only past that.
    meta_.decode_plan = kernels::plan_paged_decode_attention(decode_batch(), kv_.layout(), heads());
    decode_workspace_.ensure(meta_.decode_plan.workspace_bytes);
  }

  const int32_t hidden = c.hidden_size;
  const float eps = float(c.rms_norm_eps);
  bf16* x = act_.x.as<bf16>();
  bf16* h = act_.h.as<bf16>();
  bf16* delta = act_.delta.as<bf16>();
  kernels::embedding_gather(weights_->embed(), c.vocab_size, hidden, meta_.tokens, rows, x, stream_);
  for (int32_t l = 0; l < c.num_layers; ++l) {
    const DeviceLayer& w = weights_->layers()[size_t(l)];
    // The previous layer's FFN output joins the residual stream here (fused with the norm).
    if (l == 0)
      kernels::rms_norm(x, hidden, w.input_norm, eps, rows, hidden, h, hidden, stream_);
    else
      kernels::add_rms_norm(delta, x, w.input_norm, eps, rows, hidden, h, stream_);
    if (c.mla.enabled)
      attention_mla(l);
    else
      attention_gqa(l);
    kernels::add_rms_norm(delta, x, w.post_norm, eps, rows, hidden, h, stream_);
    if (w.is_moe)
      moe(w.moe, h, rows, delta);
    else
      mlp(w.mlp, h, rows, delta);
    WARDEN_CUDA_CHECK_LAUNCH();
  }
  kernels::add_rms_norm(delta, x, weights_->final_norm(), eps, rows, hidden, h, stream_);
  const int32_t n = meta_.n_logits;
  if (n == 0) return;
  // Only the rows that need logits go through the LM head (often the largest matrix):
  // gather them (embedding_gather with the normed rows as its table) into `delta`.
  kernels::embedding_gather(h, rows, hidden, meta_.logit_rows, n, delta, stream_);
  gemm_->f32_out(delta, hidden, n, weights_->lm_head(), logits_.as<float>(), c.vocab_size);
  WARDEN_CUDA_CHECK_LAUNCH();
}

void CudaBackend::attend(int32_t layer, const bf16* q, int64_t q_stride, bf16* out, int64_t out_stride) {
  const kernels::AttentionHeads heads = this->heads();
  bf16* k_cache = kv_.keys(layer);
  bf16* v_cache = kv_.values(layer);
  if (meta_.n_decode > 0)
    kernels::paged_decode_attention(meta_.decode_plan, q, q_stride, decode_batch(), kv_.layout(), heads, k_cache,
                                    v_cache, out, out_stride, decode_workspace_.get(), decode_workspace_.bytes(),
                                    stream_);
  if (meta_.n_prefill > 0) {
    const kernels::PagedAttentionBatch b{meta_.n_prefill, meta_.prefill_tables, meta_.prefill_max_blocks,
                                         meta_.prefill_context, meta_.prefill_max_context};
    const int64_t r0 = meta_.prefill_row0;
    kernels::paged_prefill_attention(q + r0 * q_stride, q_stride, meta_.q_starts, meta_.max_q_len, b, kv_.layout(),
                                     heads, k_cache, v_cache, out + r0 * out_stride, out_stride, stream_);
  }
}

void CudaBackend::attention_gqa(int32_t l) {
  const ModelConfig& c = config_;
  const DeviceLayer& w = weights_->layers()[size_t(l)];
  const int32_t rows = meta_.rows, hidden = c.hidden_size, hd = c.head_dim, nh = c.num_heads, nkv = c.num_kv_heads;
  const int64_t qkv_w = act_.widths().qkv;
  bf16* qkv = act_.qkv.as<bf16>();
  gemm_->bf16_out(act_.h.as<bf16>(), hidden, rows, w.qkv, w.qkv_bias, qkv, qkv_w);
  bf16* q = qkv;
  bf16* k = qkv + int64_t(nh) * hd;
  bf16* v = k + int64_t(nkv) * hd;
  kernels::rope(kernels::RopeTarget{q, qkv_w, nh, hd, 0}, kernels::RopeTarget{k, qkv_w, nkv, hd, 0}, meta_.positions,
                rows, rope_.data(), rope_.rot_dim(), false, stream_);
  kernels::kv_cache_write(k, qkv_w, v, qkv_w, meta_.slots, rows, kv_.layout(), kv_.keys(l), kv_.values(l), stream_);
  bf16* attn = act_.attn.as<bf16>();
  attend(l, q, qkv_w, attn, int64_t(nh) * hd);
  gemm_->bf16_out(attn, int64_t(nh) * hd, rows, w.o, w.o_bias, act_.delta.as<bf16>(), hidden);
}

void CudaBackend::attention_mla(int32_t l) {
  // HF DeepseekV2Attention: q (optionally through the q LoRA), the compressed KV latent
  // plus one rope key shared by all heads, latent → per-head k_nope and v. The cache
  // holds the decompressed per-head K = [k_nope | k_pe] and V, as the CPU backend's.
  const ModelConfig& c = config_;
  const MlaConfig& m = c.mla;
  const DeviceLayer& w = weights_->layers()[size_t(l)];
  const int32_t rows = meta_.rows, hidden = c.hidden_size, heads = c.num_heads;
  const int32_t qh = m.q_head_dim(), nope = m.qk_nope_head_dim, rope = m.qk_rope_head_dim, vd = m.v_head_dim;
  const int32_t lora = m.kv_lora_rank;
  const int64_t wa = act_.widths().qkv, q_out = wa - lora - rope, up_w = int64_t(heads) * (nope + vd);
  bf16* a = act_.qkv.as<bf16>();  // [rows][q_out | latent | k_pe]
  gemm_->bf16_out(act_.h.as<bf16>(), hidden, rows, w.mla_in, nullptr, a, wa);
  bf16* q = a;
  int64_t q_stride = wa;
  if (m.q_lora_rank) {
    bf16* ql = act_.q_lora.as<bf16>();
    kernels::rms_norm(a, wa, w.q_a_norm, kLoraNormEps, rows, m.q_lora_rank, ql, m.q_lora_rank, stream_);
    q = act_.q.as<bf16>();
    q_stride = int64_t(heads) * qh;
    gemm_->bf16_out(ql, m.q_lora_rank, rows, w.q_b, nullptr, q, q_stride);
  }
  bf16* latent = act_.latent.as<bf16>();
  kernels::rms_norm(a + q_out, wa, w.kv_a_norm, kLoraNormEps, rows, lora, latent, lora, stream_);
  bf16* up = act_.kv_up.as<bf16>();  // [rows][heads][nope | v]
  gemm_->bf16_out(latent, lora, rows, w.kv_b, nullptr, up, up_w);
  bf16* k_pe = a + q_out + lora;
  kernels::rope(kernels::RopeTarget{q, q_stride, heads, qh, nope}, kernels::RopeTarget{k_pe, wa, 1, rope, 0},
                meta_.positions, rows, rope_.data(), rope_.rot_dim(), true, stream_);
  // Assemble K [rows][heads][nope | rope] and V [rows][heads][v] with strided copies.
  const size_t e = sizeof(bf16);
  bf16* k = act_.k_full.as<bf16>();
  bf16* v = act_.v_full.as<bf16>();
  const size_t pairs = size_t(rows) * size_t(heads);  // (token, head) rows share one pitch
  copy_2d(k, size_t(qh) * e, up, size_t(nope + vd) * e, size_t(nope) * e, pairs, stream_);
  for (int32_t hd = 0; hd < heads; ++hd)  // the shared rope key into every head
    copy_2d(k + int64_t(hd) * qh + nope, size_t(heads) * qh * e, k_pe, size_t(wa) * e, size_t(rope) * e,
            size_t(rows), stream_);
  copy_2d(v, size_t(vd) * e, up + nope, size_t(nope + vd) * e, size_t(vd) * e, pairs, stream_);
  kernels::kv_cache_write(k, int64_t(heads) * qh, v, int64_t(heads) * vd, meta_.slots, rows, kv_.layout(),
                          kv_.keys(l), kv_.values(l), stream_);
  bf16* attn = act_.attn.as<bf16>();
  attend(l, q, q_stride, attn, int64_t(heads) * vd);
  gemm_->bf16_out(attn, int64_t(heads) * vd, rows, w.o, w.o_bias, act_.delta.as<bf16>(), hidden);
}

void CudaBackend::mlp(const DeviceMlp& w, const bf16* x, int32_t rows, bf16* out) {
  const int32_t hidden = config_.hidden_size, inter = w.down.cols;
  bf16* gu = act_.gate_up.as<bf16>();
  bf16* a = act_.act.as<bf16>();
  gemm_->bf16_out(x, hidden, rows, w.gate_up, nullptr, gu, 2 * int64_t(inter));
  kernels::silu_mul(gu, rows, inter, a, stream_);
  gemm_->bf16_out(a, inter, rows, w.down, nullptr, out, hidden);
}

void CudaBackend::moe(const DeviceMoe& w, const bf16* x, int32_t rows, bf16* out) {
  const ModelConfig& c = config_;
  const int32_t hidden = c.hidden_size, experts = c.moe.num_experts, top_k = c.moe.top_k, inter = w.inter;
  const int32_t assigned = rows * top_k;
  float* router = act_.router.as<float>();
  int32_t* ids = act_.topk_ids.as<int32_t>();
  float* weights = act_.topk_weights.as<float>();
  int32_t* offsets = act_.expert_offsets.as<int32_t>();
  int32_t* perm_to_a = act_.perm_to_assignment.as<int32_t>();
  int32_t* a_to_perm = act_.assignment_to_perm.as<int32_t>();
  bf16* x_perm = act_.x_perm.as<bf16>();
  bf16* y_perm = act_.y_perm.as<bf16>();
  bf16* gu = act_.gate_up.as<bf16>();
  bf16* a = act_.act.as<bf16>();
  // The router in fp32, as HF computes the gate.
  gemm_->f32_out(x, hidden, rows, w.router, router, experts);
  kernels::moe_route(router, w.router_bias, rows, routing_, ids, weights, stream_);
  kernels::moe_align(ids, rows, top_k, experts, offsets, perm_to_a, a_to_perm, moe_workspace_.get(),
                     moe_workspace_.bytes(), stream_);
  kernels::moe_gather_rows(x, hidden, perm_to_a, rows, top_k, x_perm, stream_);
  kernels::moe_grouped_gemm(x_perm, assigned, hidden, w.experts_gate_up, 2 * inter, experts, offsets, gu, stream_);
  kernels::silu_mul(gu, assigned, inter, a, stream_);
  kernels::moe_grouped_gemm(a, assigned, inter, w.experts_down, hidden, experts, offsets, y_perm, stream_);
  // The shared expert writes `out` first (reusing gate_up/act, the routed rows are done
  // with them); combine then adds the routed experts on top.
  if (w.has_shared) {
    mlp(w.shared, x, rows, out);
    if (w.shared_gate) {
      bf16* g = act_.shared_gate.as<bf16>();
      gemm_->bf16_out(x, hidden, rows, w.shared_gate, nullptr, g, 1);
      kernels::scale_rows_by_sigmoid(out, g, rows, hidden, stream_);
    }
  }
  kernels::moe_combine(y_perm, hidden, a_to_perm, weights, rows, top_k, w.has_shared, out, stream_);
}

void CudaBackend::forward(const ForwardBatch& batch, std::vector<float>& logits) {
  guarded([&] {
    run_model(batch, nullptr);
    const size_t n = meta_.rows == 0 ? 0 : size_t(meta_.n_logits) * size_t(config_.vocab_size);
    logits.resize(n);
    if (n > 0)
      WARDEN_CUDA_CHECK(
          cudaMemcpyAsync(logits.data(), logits_.get(), n * sizeof(float), cudaMemcpyDeviceToHost, stream_));
    // Also where an asynchronous kernel fault surfaces (and poisons the backend).
    WARDEN_CUDA_CHECK(cudaStreamSynchronize(stream_));
  });
}

bool CudaBackend::forward_sample(const ForwardBatch& batch, const std::vector<DeviceSampling>& sampling,
                                 std::vector<int32_t>& ids) {
  guarded([&] {
    run_model(batch, &sampling);
    const int32_t n = meta_.rows == 0 ? 0 : meta_.n_logits;
    if (n > 0) {
      sample_workspace_.ensure(kernels::sample_workspace_bytes(n, config_.vocab_size));
      sampled_ids_.ensure(size_t(n) * sizeof(int32_t));
      host_ids_.ensure(size_t(n) * sizeof(int32_t));
      kernels::sample_tokens(logits_.as<float>(), n, config_.vocab_size, meta_.sampling_rows,
                             sampled_ids_.as<int32_t>(), sample_workspace_.get(), sample_workspace_.bytes(), stream_);
      WARDEN_CUDA_CHECK_LAUNCH();
      WARDEN_CUDA_CHECK(cudaMemcpyAsync(host_ids_.get(), sampled_ids_.get(), size_t(n) * sizeof(int32_t),
                                        cudaMemcpyDeviceToHost, stream_));
    }
    WARDEN_CUDA_CHECK(cudaStreamSynchronize(stream_));
    ids.assign(host_ids_.as<int32_t>(), host_ids_.as<int32_t>() + n);
  });
  return true;
}

}  // namespace warden::engine::cuda
