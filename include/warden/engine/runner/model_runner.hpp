#pragma once
// Turns a scheduler step into the backend's ForwardBatch and runs it. Engine thread only.
// run() decides how the step's rows come back: sampled ids when every row can be sampled
// on the device (Backend::forward_sample: only ids cross to the host instead of rows ×
// vocab floats), logits otherwise (penalties and logprobs need them on the host).
#include <cstdint>
#include <optional>
#include <vector>

#include "warden/engine/backend.hpp"
#include "warden/engine/scheduler/scheduler.hpp"

namespace warden::engine::runner {

// One step's rows, in slice order of the need_logits slices: either ids (sampled on the
// device) or logits (one row of vocab_size() floats each). Valid until the next call.
struct StepResult {
  const std::vector<int32_t>* ids = nullptr;
  const std::vector<float>* logits = nullptr;
};

class ModelRunner {
 public:
  ModelRunner(Backend& backend, int32_t block_tokens) : backend_(backend), block_tokens_(block_tokens) {}

  // Runs the plan. `rows` has one entry per need_logits slice: how to sample it on the
  // device, or nullopt when that row needs its logits on the host.
  StepResult run(const scheduler::StepPlan& plan, const std::vector<std::optional<DeviceSampling>>& rows);

  // Runs the plan for logits. The result holds one row of vocab_size() floats per slice
  // with need_logits, in slice order; valid until the next call.
  const std::vector<float>& execute(const scheduler::StepPlan& plan);

  // The batch the last run sent (tests inspect it).
  const ForwardBatch& last_batch() const { return batch_; }

 private:
  Backend& backend_;
  int32_t block_tokens_;
  bool device_sampling_ = true;  // off for good once the backend says it cannot
  ForwardBatch batch_;
  std::vector<float> logits_;
  std::vector<DeviceSampling> sampling_;
  std::vector<int32_t> ids_;
};

// Builds the ForwardBatch of a plan (exposed for tests).
void build_forward_batch(const scheduler::StepPlan& plan, int32_t block_tokens, ForwardBatch& batch);

}  // namespace warden::engine::runner
