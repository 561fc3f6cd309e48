#pragma once
// Continuous batching (nano-vllm / vLLM v1 shape). Every step:
//   1. each running sequence that is decoding gets its one token,
//   2. running sequences still in a (chunked) prefill get the next chunk,
//   3. waiting sequences are admitted (prefix-cache lookup first) while the per-step token
//      budget, max_num_seqs and free KV blocks allow; the last one may get a partial chunk.
// When a running sequence needs a block and none is free, the youngest running sequence
// not yet scheduled this step is preempted by recompute: its blocks are released (full
// ones stay in the prefix cache) and it goes back to the front of the waiting queue with
// all its tokens, to be prefilled again later. Not thread-safe: the engine thread owns it.
#include <cstdint>
#include <deque>
#include <memory>
#include <unordered_map>
#include <variant>
#include <vector>

#include "warden/engine/kv/block_manager.hpp"
#include "warden/engine/scheduler/sequence.hpp"

namespace warden::engine::scheduler {

struct SchedulerConfig {
  int32_t max_num_seqs = 64;
  int32_t max_num_batched_tokens = 2048;  // tokens computed per step (prefill chunks + decodes)
};

// First come, first served: the only policy so far. Kept as a closed set (DESIGN §3) so a
// priority policy can be added as another alternative without a virtual interface.
struct FcfsPolicy {};
using SchedulingPolicy = std::variant<FcfsPolicy>;

struct ScheduledSlice {
  Sequence* seq = nullptr;
  int32_t num_new_tokens = 0;  // tokens [seq->num_computed, + num_new_tokens) run this step
  bool need_logits = false;    // the slice reaches the sequence's last token: sample next
};

struct StepPlan {
  std::vector<ScheduledSlice> slices;
  std::vector<int64_t> preempted;  // ids preempted while planning this step
  int32_t num_tokens = 0;
  bool empty() const { return slices.empty(); }
};

class Scheduler {
 public:
  Scheduler(SchedulerConfig config, kv::BlockManager& blocks, SchedulingPolicy policy = FcfsPolicy{});

  // Takes ownership; the sequence waits for admission.
  Sequence& add(std::unique_ptr<Sequence> seq);
  // Plans one step. Sequences in the plan stay valid until the next call to schedule/finish.
  StepPlan schedule();
  // Marks the planned tokens computed and publishes newly full blocks to the prefix cache.
  // Call after the backend ran the step (before appending sampled tokens).
  void commit(const StepPlan& plan);
  // Removes a sequence (finished or cancelled) and frees its blocks. Unknown ids are ignored.
  void finish(int64_t id);

  Sequence* find(int64_t id);
  size_t num_waiting() const { return waiting_.size(); }
  size_t num_running() const { return running_.size(); }
  bool idle() const { return waiting_.empty() && running_.empty(); }
  const SchedulerConfig& config() const { return config_; }

 private:
  void preempt(Sequence* seq);

  SchedulerConfig config_;
  kv::BlockManager& blocks_;
  SchedulingPolicy policy_;
  std::unordered_map<int64_t, std::unique_ptr<Sequence>> seqs_;
  std::deque<Sequence*> waiting_;
  std::vector<Sequence*> running_;  // in admission order (oldest first)
  uint64_t next_arrival_ = 0;
};

}  // namespace warden::engine::scheduler
