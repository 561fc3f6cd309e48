#pragma once
// The Backend door over a tensor-parallel group: N rank backends (rank r computes its
// shard and meets the others in collectives), one thread per rank, as one thread per
// device will drive N GPUs. forward() runs every rank on the same batch and returns
// rank 0's logits (all ranks hold the gathered logits). allocate_kv runs on every rank,
// each allocating only its own KV heads.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "warden/engine/backend.hpp"

namespace warden::engine::parallel {

struct TensorParallelGroup {
  std::vector<std::unique_ptr<Backend>> ranks;  // rank r at index r
  // Called when a rank fails mid-step, so ranks blocked in a collective give up instead
  // of waiting for it (InProcessGroup::abort; ncclCommAbort on devices). May be empty.
  std::function<void()> abort;
  // Called after such a step, once every rank has returned, so the group can run again.
  std::function<void()> reset;
  // What the ranks' communicators live in; released after the ranks.
  std::shared_ptr<void> keep_alive;
};

class TensorParallelBackend final : public Backend {
 public:
  explicit TensorParallelBackend(TensorParallelGroup group);
  ~TensorParallelBackend() override;

  void allocate_kv(int32_t num_blocks, int32_t block_tokens) override;
  // All ranks together (with replicated KV heads that is more than the unsplit model).
  size_t kv_bytes_per_block(int32_t block_tokens) const override;
  // Throws the first failing rank's exception (the others are aborted, then the group reset).
  void forward(const ForwardBatch& batch, std::vector<float>& logits) override;
  bool healthy() const override;
  int32_t vocab_size() const override;
  int32_t max_context() const override;
  std::string name() const override;  // e.g. "cpu tp=2"
  int32_t world() const;

 private:
  struct Threads;
  void run(const std::function<void(int32_t)>& fn);

  TensorParallelGroup group_;
  std::vector<std::vector<float>> rank_logits_;  // ranks 1..N-1 write here
  std::unique_ptr<Threads> threads_;
};

// `tensor_parallel: tp` on the CPU: loads model_dir once, slices it into tp shards
// (CpuWeights::shard) and runs them as simulated ranks over an InProcessGroup. tp == 1
// is a group of one (no split; collectives are copies). threads_per_rank <= 0: the
// machine's cores divided by tp (at least 1). Throws std::invalid_argument when the
// model does not split tp ways (validate_tensor_parallel), std::runtime_error when the
// folder is unusable.
std::unique_ptr<Backend> make_tensor_parallel_cpu_backend(const std::string& model_dir, int32_t tp,
                                                          int threads_per_rank = 0);

}  // namespace warden::engine::parallel
