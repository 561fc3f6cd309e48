#pragma once
// The reference backend: fp32 on the CPU, OpenBLAS for prefill GEMMs, a row-invariant
// GEMM for decode, a thread pool for attention. Batch-invariant by construction: a
// slice of >= kBlasMinTokens new tokens gets its own sgemm calls (its result depends on
// its own rows only); the rows of all shorter slices (decode steps, small chunks) share
// one rowwise GEMM per weight (bitwise independent of the other rows), so the weights
// are read once per step, not once per sequence. Which path a slice takes depends only
// on its own size, never on the rest of the batch.
#include <memory>
#include <string>
#include <vector>

#include "warden/engine/backend.hpp"
#include "warden/engine/backend/cpu/cpu_weights.hpp"
#include "warden/engine/backend/cpu/ffn.hpp"
#include "warden/engine/backend/cpu/ops.hpp"
#include "warden/engine/backend/cpu/paged_kv_pool.hpp"
#include "warden/engine/backend/cpu/rotary.hpp"
#include "warden/engine/backend/cpu/thread_pool.hpp"

namespace warden::engine::cpu {

class CpuBackend final : public Backend {
 public:
  // Loads config.json and the safetensors weights from model_dir. Throws on any problem.
  explicit CpuBackend(const std::string& model_dir, int threads = 0);

  void allocate_kv(int32_t num_blocks, int32_t block_tokens) override;
  size_t kv_bytes_per_block(int32_t block_tokens) const override;
  void forward(const ForwardBatch& batch, std::vector<float>& logits) override;
  int32_t vocab_size() const override { return config_.vocab_size; }
  int32_t max_context() const override;
  std::string name() const override { return "cpu"; }

  const ModelConfig& config() const { return config_; }

  static constexpr int32_t kBlasMinTokens = 16;

 private:
  // Rows [row0, row0 + rows) of the step's activations, multiplied through one Gemm.
  struct RowGroup {
    int64_t row0 = 0;
    int32_t rows = 0;
    Gemm gemm;
  };
  void plan_rows(const ForwardBatch& batch);
  void attention_block(int32_t layer, const ForwardBatch& batch);
  // Fill q_, k_, v_ (rotated) for every row from h_.
  void project_gqa(const LayerWeights& w, int64_t total);
  void project_mla(const LayerWeights& w, int64_t total);
  void ffn_block(int32_t layer);
  void lm_head(const ForwardBatch& batch, std::vector<float>& logits);

  ModelConfig config_;
  CpuWeights weights_;
  Rotary rotary_;
  PagedKvPool kv_;
  ThreadPool threads_;
  FfnScratch ffn_scratch_;
  // Per-step plan and activations. Rows are ordered: all short slices first (one
  // rowwise group), then each long slice (its own sgemm group).
  std::vector<int64_t> row_start_;  // first row of each slice
  std::vector<RowGroup> groups_;
  std::vector<float> x_, h_, q_, k_, v_, attn_, proj_, cos_, sin_, head_in_, latent_, latent_norm_, q_lora_, kv_up_;
};

}  // namespace warden::engine::cpu
