// Step plan → ForwardBatch → backend.forward.
#include "warden/engine/runner/model_runner.hpp"

#include <algorithm>

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

const std::vector<float>& ModelRunner::execute(const scheduler::StepPlan& plan) {
  build_forward_batch(plan, block_tokens_, batch_);
  logits_.clear();
  backend_.forward(batch_, logits_);
  return logits_;
}

}  // namespace warden::engine::runner
