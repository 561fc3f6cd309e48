#pragma once
// The CUDA backend: bf16 weights and activations, fp32 accumulation, cuBLASLt GEMMs and
// the kernels of kernels/*.cuh, all on one stream. The scheduler's batch is planned on
// the host (StepMetadata: decode rows first, prefill chunks after, one upload), then
//   embedding → per layer: [add_]rms_norm, attention (GQA: fused QKV GEMM + bias, rope;
//   MLA: q / kv_a projections, LoRA norms, kv_b decompression into per-head K and V),
//   kv_cache_write, paged decode / prefill attention, O GEMM; add_rms_norm; FFN (fused
//   gate_up GEMM, silu_mul, down) or MoE (router GEMM in fp32, route, align, gather,
//   grouped GEMMs, shared expert, combine) → final norm → LM head (fp32) on the rows
// that need logits → logits to the host, or sampled on the device (forward_sample).
//
// A sticky device error (an illegal address poisons the context) marks the backend
// unhealthy: later calls throw at once and the engine fails requests instead of retrying.
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "activations.hpp"
#include "cublas_gemm.hpp"
#include "device_kv_pool.hpp"
#include "device_weights.hpp"
#include "kernels/moe_route.cuh"
#include "kernels/paged_attention.cuh"
#include "rope_table.hpp"
#include "step_metadata.hpp"
#include "warden/engine/backend.hpp"
#include "warden/engine/model/model_config.hpp"

namespace warden::engine::cuda {

class CudaBackend final : public Backend {
 public:
  CudaBackend(const std::string& model_dir, int device);
  ~CudaBackend() override;

  void allocate_kv(int32_t num_blocks, int32_t block_tokens) override;
  size_t kv_bytes_per_block(int32_t block_tokens) const override;
  void forward(const ForwardBatch& batch, std::vector<float>& logits) override;
  bool forward_sample(const ForwardBatch& batch, const std::vector<DeviceSampling>& sampling,
                      std::vector<int32_t>& ids) override;
  void prepare(int32_t max_batched_tokens, int32_t max_seqs) override;
  size_t kv_memory_budget(double fraction) const override;
  bool healthy() const override { return healthy_.load(); }
  int32_t vocab_size() const override { return config_.vocab_size; }
  int32_t max_context() const override;
  std::string name() const override { return "cuda:" + std::to_string(device_); }

  const ModelConfig& config() const { return config_; }

 private:
  // Runs `fn` with this backend's device current; a sticky CudaError marks it unhealthy.
  template <class Fn>
  void guarded(Fn&& fn);
  // Waits for everything queued on the stream (after a failed step); never throws.
  void drain() noexcept;
  // Everything up to the fp32 logits of the need_logits rows in logits_ (device).
  void run_model(const ForwardBatch& batch, const std::vector<DeviceSampling>* sampling);
  void attention_gqa(int32_t layer);
  void attention_mla(int32_t layer);
  // Paged attention of every row: q rows `q_stride` apart, output rows `out_stride` apart.
  void attend(int32_t layer, const bf16* q, int64_t q_stride, bf16* out, int64_t out_stride);
  // out[rows][H] = down(silu(gate(x)) * up(x))
  void mlp(const DeviceMlp& w, const bf16* x, int32_t rows, bf16* out);
  void moe(const DeviceMoe& w, const bf16* x, int32_t rows, bf16* out);
  void ensure_logits(int32_t rows);
  kernels::AttentionHeads heads() const;
  kernels::PagedAttentionBatch decode_batch() const;  // this step's decode rows (meta_)

  int device_;
  ModelConfig config_;
  cudaStream_t stream_ = nullptr;
  std::unique_ptr<DeviceWeights> weights_;
  std::unique_ptr<CublasGemm> gemm_;
  Activations act_;
  DeviceKvPool kv_;
  RopeTable rope_;
  StepMetadata meta_;
  DeviceBuffer logits_;          // fp32 [rows][vocab]
  DeviceBuffer decode_workspace_;
  DeviceBuffer moe_workspace_;
  DeviceBuffer sample_workspace_;
  DeviceBuffer sampled_ids_;     // int32 [rows]
  PinnedBuffer host_ids_;
  float attn_scale_ = 0.0f;
  kernels::MoeRouting routing_;  // the router's rules, from config_ at load
  int32_t max_seqs_ = 0;  // from prepare(): sizes the decode scratch
  std::atomic<bool> healthy_{true};
};

}  // namespace warden::engine::cuda
