#pragma once
// The reference backend: fp32 on the CPU, OpenBLAS for prefill GEMMs, a row-invariant
// GEMM for decode, a thread pool for attention. Batch-invariant by construction: a
// slice of >= kBlasMinTokens new tokens gets its own sgemm calls (its result depends on
// its own rows only); the rows of all shorter slices (decode steps, small chunks) share
// one rowwise GEMM per weight (bitwise independent of the other rows), so the weights
// are read once per step, not once per sequence. Which path a slice takes depends only
// on its own size, never on the rest of the batch.
//
// Tensor parallelism: a CpuBackend can be one rank of a group (parallel/shard_plan.hpp).
// It then computes its shard of every layer (its heads, its MLP columns) and calls the
// communicator's all_reduce_sum once after o_proj and once after the FFN, and gathers
// the vocab-parallel LM head; TensorParallelBackend drives N of them, one thread each.
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
#include "warden/engine/parallel/communicator.hpp"
#include "warden/engine/parallel/shard_plan.hpp"

namespace warden::engine::cpu {

class CpuBackend final : public Backend {
 public:
  // Loads config.json and the safetensors weights from model_dir. Throws on any problem.
  explicit CpuBackend(const std::string& model_dir, int threads = 0);
  // Rank plan.rank of a tensor-parallel group: `shard` is CpuWeights::shard(full, plan),
  // `config` the whole model's. `comm` is this rank's and must outlive the backend.
  CpuBackend(const ModelConfig& config, std::shared_ptr<const CpuWeights> shard, const parallel::ShardPlan& plan,
             parallel::Communicator& comm, int threads = 0);

  void allocate_kv(int32_t num_blocks, int32_t block_tokens) override;
  size_t kv_bytes_per_block(int32_t block_tokens) const override;
  void forward(const ForwardBatch& batch, std::vector<float>& logits) override;
  int32_t vocab_size() const override { return config_.vocab_size; }
  int32_t max_context() const override;
  std::string name() const override { return "cpu"; }

  const ModelConfig& config() const { return config_; }  // the whole model, also on a rank

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
  ModelConfig local_;  // what this backend computes: config_, or a rank's shard_config
  std::shared_ptr<const CpuWeights> weights_;
  parallel::Communicator* comm_ = nullptr;  // null: the whole model on its own
  parallel::ShardPlan plan_;
  Rotary rotary_;
  PagedKvPool kv_;
  ThreadPool threads_;
  FfnScratch ffn_scratch_;
  // Per-step plan and activations. Rows are ordered: all short slices first (one
  // rowwise group), then each long slice (its own sgemm group).
  std::vector<int64_t> row_start_;  // first row of each slice
  std::vector<RowGroup> groups_;
  std::vector<float> x_, h_, q_, k_, v_, attn_, proj_, cos_, sin_, head_in_, latent_, latent_norm_, q_lora_, kv_up_;
  std::vector<float> head_out_, gathered_;  // a rank's LM-head slab and the gathered slabs
};

}  // namespace warden::engine::cpu
