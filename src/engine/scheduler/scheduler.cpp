// Continuous-batching scheduler (see scheduler.hpp for the step rules).
#include "warden/engine/scheduler/scheduler.hpp"

#include <algorithm>
#include <stdexcept>

namespace warden::engine::scheduler {

Scheduler::Scheduler(SchedulerConfig config, kv::BlockManager& blocks, SchedulingPolicy policy)
    : config_(config), blocks_(blocks), policy_(policy) {
  if (config_.max_num_seqs <= 0 || config_.max_num_batched_tokens <= 0)
    throw std::invalid_argument("scheduler: max_num_seqs and max_num_batched_tokens must be > 0");
}

Sequence& Scheduler::add(std::unique_ptr<Sequence> seq) {
  Sequence* s = seq.get();
  s->status = SequenceStatus::Waiting;
  s->arrival = next_arrival_++;
  s->num_computed = 0;
  seqs_[s->id] = std::move(seq);
  std::visit([&](const FcfsPolicy&) { waiting_.push_back(s); }, policy_);
  return *s;
}

Sequence* Scheduler::find(int64_t id) {
  auto it = seqs_.find(id);
  return it == seqs_.end() ? nullptr : it->second.get();
}

void Scheduler::preempt(Sequence* seq) {
  blocks_.release(seq->table);
  seq->num_computed = 0;
  seq->status = SequenceStatus::Waiting;
  ++seq->num_preemptions;
  running_.erase(std::find(running_.begin(), running_.end(), seq));
  // Back to the front: it is older than everything still waiting.
  waiting_.push_front(seq);
}

StepPlan Scheduler::schedule() {
  StepPlan plan;
  int32_t budget = config_.max_num_batched_tokens;
  std::vector<Sequence*> scheduled;
  auto is_scheduled = [&](Sequence* s) {
    return std::find(scheduled.begin(), scheduled.end(), s) != scheduled.end();
  };
  auto add_slice = [&](Sequence* s, int32_t n) {
    plan.slices.push_back({s, n, s->num_computed + n == s->num_tokens()});
    plan.num_tokens += n;
    budget -= n;
    scheduled.push_back(s);
  };

  // Passes 1 and 2 over running sequences: decodes first (latency), then prefill chunks.
  for (int pass = 0; pass < 2; ++pass) {
    const std::vector<Sequence*> order = running_;  // preemption edits running_
    for (Sequence* seq : order) {
      if (budget <= 0) break;
      if (seq->status != SequenceStatus::Running || seq->paused || is_scheduled(seq)) continue;
      int32_t remaining = seq->num_uncomputed();
      if (remaining <= 0) continue;
      if ((remaining == 1) != (pass == 0)) continue;
      int32_t n = std::min(remaining, budget);
      bool self_preempted = false;
      while (!blocks_.grow(seq->table, seq->num_computed + n)) {
        Sequence* victim = nullptr;
        for (Sequence* r : running_)
          if (r != seq && !is_scheduled(r) && (!victim || r->arrival > victim->arrival)) victim = r;
        if (!victim) {
          preempt(seq);
          plan.preempted.push_back(seq->id);
          self_preempted = true;
          break;
        }
        preempt(victim);
        plan.preempted.push_back(victim->id);
      }
      if (!self_preempted) add_slice(seq, n);
    }
  }

  // Pass 3: admit waiting sequences.
  while (budget > 0 && !waiting_.empty() && static_cast<int32_t>(running_.size()) < config_.max_num_seqs) {
    Sequence* seq = waiting_.front();
    // At least the last token is always computed so that there are logits to sample from.
    int32_t cached = blocks_.acquire_prefix(seq->tokens, seq->num_tokens() - 1, seq->table);
    seq->num_computed = cached;
    int32_t n = std::min(seq->num_uncomputed(), budget);
    if (!blocks_.grow(seq->table, seq->num_computed + n)) {
      blocks_.release(seq->table);
      seq->num_computed = 0;
      break;  // FCFS: later arrivals do not overtake a sequence that does not fit
    }
    if (seq->num_cached_prompt_tokens < 0) {
      seq->num_cached_prompt_tokens = std::min(cached, seq->num_prompt_tokens);
      blocks_.record_lookup(seq->num_cached_prompt_tokens, seq->num_prompt_tokens);
    }
    waiting_.pop_front();
    seq->status = SequenceStatus::Running;
    running_.push_back(seq);
    add_slice(seq, n);
  }
  return plan;
}

void Scheduler::commit(const StepPlan& plan) {
  for (const auto& slice : plan.slices) {
    Sequence* s = slice.seq;
    s->num_computed += slice.num_new_tokens;
    blocks_.publish(s->table, s->tokens, s->num_computed);
  }
}

void Scheduler::finish(int64_t id) {
  auto it = seqs_.find(id);
  if (it == seqs_.end()) return;
  Sequence* s = it->second.get();
  blocks_.release(s->table);
  if (auto w = std::find(waiting_.begin(), waiting_.end(), s); w != waiting_.end()) waiting_.erase(w);
  if (auto r = std::find(running_.begin(), running_.end(), s); r != running_.end()) running_.erase(r);
  s->status = SequenceStatus::Finished;
  seqs_.erase(it);
}

}  // namespace warden::engine::scheduler
