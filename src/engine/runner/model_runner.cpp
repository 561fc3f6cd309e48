// Step plan → ForwardBatch → backend.forward (logits) or backend.forward_sample (ids).
#include "warden/engine/runner/model_runner.hpp"

#include <algorithm>
#include <stdexcept>

namespace warden::engine::runner {

void build_forward_batch(const scheduler::StepPlan& plan, int32_t block_tokens, ForwardBatch& batch) {
  batch.tokens.clear();
  batch.seqs.resize(plan.slices.size());
  for (size_t i = 0; i < plan.slices.size(); ++i) {
    const auto& slice = plan.slices[i];
    const auto* seq = slice.seq;
    auto& out = batch.seqs[i];
    out.num_new_tokens = slice.num_new_tokens;
    out.num_cached_tokens = seq->num_computed;
    out.need_logits = slice.need_logits;
    int32_t end = seq->num_computed + slice.num_new_tokens;
    // Exactly the blocks covering [0, end): the backend may size its gathers by this.
    size_t nblocks = static_cast<size_t>((end + block_tokens - 1) / block_tokens);
    nblocks = std::min(nblocks, seq->table.blocks.size());
    out.block_table.assign(seq->table.blocks.begin(), seq->table.blocks.begin() + static_cast<std::ptrdiff_t>(nblocks));
    batch.tokens.insert(batch.tokens.end(), seq->tokens.begin() + seq->num_computed, seq->tokens.begin() + end);
  }
}

StepResult ModelRunner::run(const scheduler::StepPlan& plan, const std::vector<std::optional<DeviceSampling>>& rows) {
  if (device_sampling_ && std::all_of(rows.begin(), rows.end(), [](const auto& r) { return r.has_value(); })) {
    sampling_.clear();
    for (const auto& r : rows) sampling_.push_back(*r);
    build_forward_batch(plan, block_tokens_, batch_);
    if (backend_.forward_sample(batch_, sampling_, ids_)) {
      if (ids_.size() < rows.size()) throw std::logic_error("backend returned fewer sampled ids than rows");
      return StepResult{&ids_, nullptr};
    }
    device_sampling_ = false;  // this backend samples on the host only
  }
  return StepResult{nullptr, &execute(plan)};
}

const std::vector<float>& ModelRunner::execute(const scheduler::StepPlan& plan) {
  build_forward_batch(plan, block_tokens_, batch_);
  logits_.clear();
  backend_.forward(batch_, logits_);
  return logits_;
}

}  // namespace warden::engine::runner
