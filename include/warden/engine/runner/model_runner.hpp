#pragma once
// Turns a scheduler step into the backend's ForwardBatch and runs it. Engine thread only.
#include <cstdint>
#include <vector>

#include "warden/engine/backend.hpp"
#include "warden/engine/scheduler/scheduler.hpp"

namespace warden::engine::runner {

class ModelRunner {
 public:
  ModelRunner(Backend& backend, int32_t block_tokens) : backend_(backend), block_tokens_(block_tokens) {}

  // Runs the plan. The result holds one row of vocab_size() floats per slice with
  // need_logits, in slice order; valid until the next call.
  const std::vector<float>& execute(const scheduler::StepPlan& plan);

  // The batch the last execute() sent (tests inspect it).
  const ForwardBatch& last_batch() const { return batch_; }

 private:
  Backend& backend_;
  int32_t block_tokens_;
  ForwardBatch batch_;
  std::vector<float> logits_;
};

// Builds the ForwardBatch of a plan (exposed for tests).
void build_forward_batch(const scheduler::StepPlan& plan, int32_t block_tokens, ForwardBatch& batch);

}  // namespace warden::engine::runner
