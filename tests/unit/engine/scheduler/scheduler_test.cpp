// Scheduler: token budget, chunked prefill, preemption by recompute, cancellation, and the
// runner's block tables, driven through a real paged test backend.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <memory>
#include <numeric>
#include <vector>

#include "unit/engine/scheduler/paged_test_backend.hpp"
#include "warden/engine/kv/block_manager.hpp"
#include "warden/engine/runner/model_runner.hpp"
#include "warden/engine/scheduler/scheduler.hpp"

using namespace warden::engine;
using scheduler::Scheduler;
using scheduler::SchedulerConfig;
using scheduler::Sequence;

namespace {

std::unique_ptr<Sequence> make_seq(int64_t id, int32_t len, int32_t salt = 0) {
  auto s = std::make_unique<Sequence>();
  s->id = id;
  for (int32_t i = 0; i < len; ++i) s->tokens.push_back((i * 7 + salt * 13 + static_cast<int32_t>(id)) % 50 + 1);
  s->num_prompt_tokens = len;
  return s;
}

int32_t argmax(const float* row, int32_t n) { return static_cast<int32_t>(std::max_element(row, row + n) - row); }

struct Harness {
  Harness(int32_t num_blocks, int32_t block_tokens, SchedulerConfig cfg, bool prefix = true)
      : blocks(num_blocks, block_tokens, prefix), sched(cfg, blocks), runner(backend, block_tokens) {
    backend.allocate_kv(num_blocks, block_tokens);
  }
  // Runs until every sequence generated `max_new` tokens greedily; returns id → generated.
  std::map<int64_t, std::vector<int32_t>> run(int32_t max_new, int max_steps = 100000) {
    std::map<int64_t, std::vector<int32_t>> out;
    for (int step = 0; step < max_steps && !sched.idle(); ++step) {
      auto plan = sched.schedule();
      REQUIRE_FALSE(plan.empty());
      REQUIRE(plan.num_tokens <= sched.config().max_num_batched_tokens);
      REQUIRE(static_cast<int32_t>(sched.num_running()) <= sched.config().max_num_seqs);
      preemptions += static_cast<int64_t>(plan.preempted.size());
      max_batch = std::max(max_batch, plan.slices.size());
      const auto& logits = runner.execute(plan);
      sched.commit(plan);
      size_t row = 0;
      std::vector<int64_t> done;
      for (auto& sl : plan.slices) {
        if (!sl.need_logits) continue;
        int32_t tok = argmax(logits.data() + row * backend.vocab_size(), backend.vocab_size());
        ++row;
        sl.seq->tokens.push_back(tok);
        out[sl.seq->id].push_back(tok);
        if (sl.seq->num_generated() >= max_new) done.push_back(sl.seq->id);
      }
      for (auto id : done) sched.finish(id);
    }
    REQUIRE(sched.idle());
    return out;
  }
  // Greedy generation of one context by full recompute (no paging, no cache).
  std::vector<int32_t> reference(std::vector<int32_t> ctx, int32_t max_new) {
    std::vector<int32_t> gen;
    for (int32_t i = 0; i < max_new; ++i) {
      auto l = backend.reference_logits(ctx);
      int32_t t = argmax(l.data(), static_cast<int32_t>(l.size()));
      ctx.push_back(t);
      gen.push_back(t);
    }
    return gen;
  }

  testing::PagedTestBackend backend;
  kv::BlockManager blocks;
  Scheduler sched;
  runner::ModelRunner runner;
  int64_t preemptions = 0;
  size_t max_batch = 0;
};

}  // namespace

TEST_CASE("chunked prefill splits a long prompt under the token budget", "[engine][scheduler]") {
  Harness h(64, 16, {.max_num_seqs = 8, .max_num_batched_tokens = 32});
  auto& s = h.sched.add(make_seq(1, 100));
  std::vector<int32_t> chunks;
  std::vector<bool> logits;
  while (s.num_generated() == 0) {
    auto plan = h.sched.schedule();
    REQUIRE(plan.slices.size() == 1);
    chunks.push_back(plan.slices[0].num_new_tokens);
    logits.push_back(plan.slices[0].need_logits);
    // The block table handed to the backend covers exactly the computed + new tokens.
    runner::ModelRunner& r = h.runner;
    const auto& l = r.execute(plan);
    CHECK(r.last_batch().seqs[0].block_table.size() ==
          static_cast<size_t>((s.num_computed + plan.slices[0].num_new_tokens + 15) / 16));
    h.sched.commit(plan);
    if (plan.slices[0].need_logits) s.tokens.push_back(argmax(l.data(), h.backend.vocab_size()));
  }
  CHECK(chunks == std::vector<int32_t>{32, 32, 32, 4});
  CHECK(logits == std::vector<bool>{false, false, false, true});
  // Then one decode token per step.
  auto plan = h.sched.schedule();
  REQUIRE(plan.slices.size() == 1);
  CHECK(plan.slices[0].num_new_tokens == 1);
  CHECK(plan.slices[0].need_logits);
}

TEST_CASE("every step respects the token budget and max_num_seqs; decodes come first", "[engine][scheduler]") {
  Harness h(512, 16, {.max_num_seqs = 4, .max_num_batched_tokens = 40});
  for (int i = 0; i < 10; ++i) h.sched.add(make_seq(i + 1, 30 + i * 5));
  // Step 1: only prefill; the budget is filled FCFS with the last prompt chunked.
  auto p1 = h.sched.schedule();
  CHECK(p1.num_tokens == 40);
  REQUIRE(p1.slices.size() == 2);
  CHECK(p1.slices[0].num_new_tokens == 30);
  CHECK(p1.slices[1].num_new_tokens == 10);
  h.runner.execute(p1);
  h.sched.commit(p1);
  p1.slices[0].seq->tokens.push_back(3);  // sampled
  // Step 2: seq 1 decodes (listed first), seq 2 continues its prefill.
  auto p2 = h.sched.schedule();
  REQUIRE(p2.slices.size() >= 2);
  CHECK(p2.slices[0].seq->id == 1);
  CHECK(p2.slices[0].num_new_tokens == 1);
  CHECK(p2.slices[1].seq->id == 2);
  CHECK(p2.num_tokens <= 40);
  h.runner.execute(p2);
  h.sched.commit(p2);
  for (auto& sl : p2.slices)
    if (sl.need_logits) sl.seq->tokens.push_back(5);
  // Running to completion keeps all invariants (checked inside run()).
  auto out = h.run(12);
  CHECK(out.size() == 10);
  CHECK(h.max_batch <= 4);
}

TEST_CASE("paged decode with chunked prefill and continuous batching equals full recompute",
          "[engine][scheduler]") {
  Harness h(256, 4, {.max_num_seqs = 5, .max_num_batched_tokens = 23});
  std::map<int64_t, std::vector<int32_t>> prompts;
  for (int i = 0; i < 12; ++i) {
    auto s = make_seq(i + 1, 5 + i * 3, i);
    prompts[s->id] = s->tokens;
    h.sched.add(std::move(s));
  }
  auto out = h.run(15);
  for (auto& [id, p] : prompts) CHECK(out[id] == h.reference(p, 15));
}

TEST_CASE("preemption by recompute gives the same output as an unconstrained run", "[engine][scheduler]") {
  auto run = [](int32_t num_blocks, bool prefix, int64_t* preemptions) {
    Harness h(num_blocks, 4, {.max_num_seqs = 6, .max_num_batched_tokens = 64}, prefix);
    for (int i = 0; i < 6; ++i) h.sched.add(make_seq(i + 1, 10 + i, i));
    auto out = h.run(30);
    *preemptions = h.preemptions;
    CHECK(h.blocks.num_used_blocks() == 0);
    return out;
  };
  int64_t p_big = 0, p_small = 0, p_small_nocache = 0;
  auto big = run(1024, true, &p_big);
  // 6 sequences grow to ~45 tokens = 12 blocks each; 24 blocks force preemptions.
  auto small = run(24, true, &p_small);
  auto small_nc = run(24, false, &p_small_nocache);
  CHECK(p_big == 0);
  CHECK(p_small > 0);
  CHECK(p_small_nocache > 0);
  CHECK(small == big);
  CHECK(small_nc == big);
}

TEST_CASE("the youngest running sequence is preempted first and requeued at the front", "[engine][scheduler]") {
  Harness h(6, 4, {.max_num_seqs = 8, .max_num_batched_tokens = 64}, false);
  auto& a = h.sched.add(make_seq(1, 8));  // 2 blocks
  auto& b = h.sched.add(make_seq(2, 8));  // 2 blocks
  auto& c = h.sched.add(make_seq(3, 7));  // 2 blocks
  auto p = h.sched.schedule();
  REQUIRE(p.slices.size() == 3);
  h.runner.execute(p);
  h.sched.commit(p);
  for (auto* s : {&a, &b, &c}) s->tokens.push_back(1);
  // c needs no new block for its 8th token, but a and b need a 3rd block each and the pool
  // is full: the youngest (c) is preempted, which frees the two blocks a and b need.
  auto p2 = h.sched.schedule();
  REQUIRE(p2.preempted.size() >= 1);
  CHECK(p2.preempted[0] == 3);
  CHECK(c.status == scheduler::SequenceStatus::Waiting);
  CHECK(c.num_computed == 0);
  CHECK(c.num_preemptions == 1);
  CHECK(c.table.blocks.empty());
  CHECK(h.sched.num_waiting() == 1);
}

TEST_CASE("finishing (cancelling) a sequence frees its blocks for the next step", "[engine][scheduler]") {
  Harness h(8, 4, {.max_num_seqs = 4, .max_num_batched_tokens = 64}, false);
  h.sched.add(make_seq(1, 20));  // 5 blocks
  h.sched.add(make_seq(2, 16));  // 4 blocks: does not fit next to seq 1
  auto p = h.sched.schedule();
  REQUIRE(p.slices.size() == 1);
  CHECK(h.sched.num_waiting() == 1);
  CHECK(h.blocks.num_used_blocks() == 5);
  h.sched.finish(1);  // client went away before the step ran
  CHECK(h.blocks.num_used_blocks() == 0);
  auto p2 = h.sched.schedule();
  REQUIRE(p2.slices.size() == 1);
  CHECK(p2.slices[0].seq->id == 2);
}

TEST_CASE("a paused sequence keeps its blocks but is not scheduled", "[engine][scheduler]") {
  Harness h(32, 4, {.max_num_seqs = 4, .max_num_batched_tokens = 64});
  auto& a = h.sched.add(make_seq(1, 6));
  auto& b = h.sched.add(make_seq(2, 6));
  auto p = h.sched.schedule();
  h.runner.execute(p);
  h.sched.commit(p);
  a.tokens.push_back(1);
  b.tokens.push_back(1);
  a.paused = true;
  auto p2 = h.sched.schedule();
  REQUIRE(p2.slices.size() == 1);
  CHECK(p2.slices[0].seq->id == 2);
  CHECK_FALSE(a.table.blocks.empty());
}

TEST_CASE("a repeated prompt is served from the prefix cache with identical output", "[engine][scheduler]") {
  Harness h(128, 4, {.max_num_seqs = 4, .max_num_batched_tokens = 64});
  auto s1 = make_seq(1, 37);
  auto prompt = s1->tokens;
  h.sched.add(std::move(s1));
  auto first = h.run(10);
  int64_t tokens_before = h.backend.tokens_seen;
  auto s2 = std::make_unique<Sequence>();
  s2->id = 2;
  s2->tokens = prompt;
  s2->num_prompt_tokens = 37;
  auto& ref = h.sched.add(std::move(s2));
  auto p = h.sched.schedule();
  CHECK(ref.num_cached_prompt_tokens == 36);  // 9 full blocks of 4
  CHECK(p.num_tokens == 1);
  h.runner.execute(p);
  h.sched.commit(p);
  h.sched.finish(2);
  auto s3 = std::make_unique<Sequence>();
  s3->id = 3;
  s3->tokens = prompt;
  s3->num_prompt_tokens = 37;
  h.sched.add(std::move(s3));
  auto second = h.run(10);
  CHECK(second[3] == first[1]);
  CHECK(h.backend.tokens_seen - tokens_before < 37);
  CHECK(h.blocks.stats().hit_rate() > 0.5);
}
