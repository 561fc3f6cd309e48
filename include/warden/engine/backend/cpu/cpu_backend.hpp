#pragma once
// The reference backend: fp32 on the CPU, OpenBLAS for GEMMs, a thread pool for
// attention. Batch-invariant by construction: every GEMM covers the rows of one
// sequence only and every other kernel is row-wise, so a sequence's logits do not
// depend on what else is in the batch.
#include <memory>
#include <string>
#include <vector>

#include "warden/engine/backend.hpp"
#include "warden/engine/backend/cpu/cpu_weights.hpp"
#include "warden/engine/backend/cpu/ffn.hpp"
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

 private:
  void attention_block(int32_t layer, const ForwardBatch& batch);
  void ffn_block(int32_t layer, const ForwardBatch& batch);

  ModelConfig config_;
  CpuWeights weights_;
  Rotary rotary_;
  PagedKvPool kv_;
  ThreadPool threads_;
  FfnScratch ffn_scratch_;
  // Per-step activations, sized for the batch's tokens.
  std::vector<int64_t> row_start_;  // first row of each slice
  std::vector<float> x_, h_, q_, k_, v_, attn_, proj_, cos_, sin_;
};

}  // namespace warden::engine::cpu
