// The CPU backend over the paged KV pool: decode over blocks == full recompute,
// chunked prefill == whole prefill, and batch invariance (bitwise).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <numeric>
#include <random>
#include <vector>

#include "unit/engine/backend/batch_builders.hpp"
#include "unit/engine/weights/temp_dir.hpp"
#include "warden/engine/backend.hpp"
#include "warden/engine/model/tiny_model.hpp"

using namespace warden::engine;
using warden::test::TempDir;
using warden::test::blocks;
using warden::test::random_tokens;
using warden::test::slice;

namespace {

constexpr int32_t kVocab = 512;

struct TinyModel {
  TempDir dir;
  explicit TinyModel(const std::string& arch, uint64_t seed = 11) : dir("cpu-" + arch) {
    TinyModelOptions o;
    o.arch = arch;
    o.out_dir = dir.str();
    o.vocab = "none";
    o.vocab_size = kVocab;
    o.dtype = DType::F32;
    o.seed = seed;
    write_tiny_model(o);
  }
  std::unique_ptr<Backend> backend(int32_t blocks = 64, int32_t block_tokens = 4) const {
    auto b = make_backend(dir.str(), "cpu");
    b->allocate_kv(blocks, block_tokens);
    return b;
  }
};

// Runs one sequence alone: its tokens in the given chunk sizes; returns the last logits.
std::vector<float> run_chunks(Backend& b, const std::vector<int32_t>& tokens, const std::vector<int32_t>& chunks,
                              const std::vector<int32_t>& table) {
  std::vector<float> logits;
  int32_t done = 0;
  for (int32_t n : chunks) {
    ForwardBatch batch;
    batch.tokens.assign(tokens.begin() + done, tokens.begin() + done + n);
    batch.seqs.push_back(slice(n, done, table, done + n == int32_t(tokens.size())));
    b.forward(batch, logits);
    done += n;
  }
  REQUIRE(done == int32_t(tokens.size()));
  return logits;
}

float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  float m = 0.0f;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

bool bitwise_equal(const float* a, const float* b, size_t n) { return std::memcmp(a, b, n * sizeof(float)) == 0; }

}  // namespace

TEST_CASE("cpu backend: decode over paged blocks equals full recompute at every step", "[backend][cpu]") {
  for (const char* arch : {"qwen2", "deepseek-moe", "deepseek-v2", "deepseek-v3"}) {
    DYNAMIC_SECTION(arch) {
      TinyModel model(arch);
      auto b = model.backend(64, 4);
      const auto tokens = random_tokens(30, 1, kVocab);
      // The decoding sequence uses scattered, non-monotonic blocks 40.. of the pool.
      std::vector<int32_t> table = {47, 41, 52, 40, 44, 60, 43, 55};
      std::vector<float> step_logits;
      float worst = 0.0f;
      for (int32_t len = 1; len <= int32_t(tokens.size()); ++len) {
        ForwardBatch step;
        if (len <= 6) {  // a 6-token prefill first, then one token per step
          if (len < 6) continue;
          step.tokens.assign(tokens.begin(), tokens.begin() + 6);
          step.seqs.push_back(slice(6, 0, table));
        } else {
          step.tokens = {tokens[size_t(len - 1)]};
          step.seqs.push_back(slice(1, len - 1, table));
        }
        b->forward(step, step_logits);
        // Full recompute of the prefix in fresh blocks.
        ForwardBatch full;
        full.tokens.assign(tokens.begin(), tokens.begin() + len);
        full.seqs.push_back(slice(len, 0, blocks(0, (len + 3) / 4)));
        std::vector<float> full_logits;
        b->forward(full, full_logits);
        REQUIRE(step_logits.size() == size_t(kVocab));
        worst = std::max(worst, max_abs_diff(step_logits, full_logits));
      }
      INFO("max |paged decode - full recompute| = " << worst);
      CHECK(worst <= 1e-5f);
    }
  }
}

TEST_CASE("cpu backend: chunked prefill equals whole prefill", "[backend][cpu]") {
  TinyModel model("llama");
  auto b = model.backend(64, 4);
  const auto tokens = random_tokens(40, 2, kVocab);
  const auto whole = run_chunks(*b, tokens, {40}, blocks(0, 10));
  for (const auto& chunks : std::vector<std::vector<int32_t>>{{5, 11, 1, 23}, {16, 16, 8}, {1, 39}}) {
    const auto chunked = run_chunks(*b, tokens, chunks, blocks(20, 10));
    CHECK(max_abs_diff(whole, chunked) <= 1e-5f);
  }
  // And the result differs from a different prompt: the comparison is not vacuous.
  auto other = tokens;
  other[3] = (other[3] + 1) % kVocab;
  CHECK(max_abs_diff(whole, run_chunks(*b, other, {40}, blocks(30, 10))) > 1e-3f);
}

TEST_CASE("cpu backend: a sequence's logits are bitwise identical alone and in a batch", "[backend][cpu]") {
  for (const char* arch : {"qwen2", "deepseek-moe", "deepseek-v2", "deepseek-v3"}) {
    DYNAMIC_SECTION(arch) {
      TinyModel model(arch);
      auto alone = model.backend(64, 4);
      auto batched = model.backend(64, 4);
      const auto a = random_tokens(13, 3, kVocab), c = random_tokens(9, 4, kVocab), d = random_tokens(21, 5, kVocab);
      const auto ta = blocks(0, 8), tc = blocks(8, 8), td = blocks(16, 8);

      // Step 1: prefills. Alone: A only. Batched: C, A, D (A in the middle).
      std::vector<float> la, lb;
      ForwardBatch one;
      one.tokens = a;
      one.seqs = {slice(13, 0, ta)};
      alone->forward(one, la);
      ForwardBatch three;
      three.tokens = c;
      three.tokens.insert(three.tokens.end(), a.begin(), a.end());
      three.tokens.insert(three.tokens.end(), d.begin(), d.end());
      three.seqs = {slice(9, 0, tc), slice(13, 0, ta), slice(21, 0, td, /*logits=*/false)};
      batched->forward(three, lb);
      REQUIRE(lb.size() == 2 * size_t(kVocab));  // only slices with need_logits get a row
      CHECK(bitwise_equal(la.data(), lb.data() + kVocab, kVocab));

      // Steps 2..6: greedy decode; A alone vs A batched with C and D decoding too.
      int32_t next_alone = int32_t(std::max_element(la.begin(), la.end()) - la.begin());
      int32_t next_batch = int32_t(std::max_element(lb.begin() + kVocab, lb.end()) - (lb.begin() + kVocab));
      for (int32_t step = 0; step < 5; ++step) {
        REQUIRE(next_alone == next_batch);
        ForwardBatch s1;
        s1.tokens = {next_alone};
        s1.seqs = {slice(1, 13 + step, ta)};
        alone->forward(s1, la);
        ForwardBatch s3;
        s3.tokens = {int32_t(step), next_batch, int32_t(100 + step)};
        s3.seqs = {slice(1, 9 + step, tc), slice(1, 13 + step, ta), slice(1, 21 + step, td)};
        batched->forward(s3, lb);
        REQUIRE(lb.size() == 3 * size_t(kVocab));
        CHECK(bitwise_equal(la.data(), lb.data() + kVocab, kVocab));
        next_alone = int32_t(std::max_element(la.begin(), la.end()) - la.begin());
        next_batch = int32_t(std::max_element(lb.begin() + kVocab, lb.begin() + 2 * kVocab) - (lb.begin() + kVocab));
      }
    }
  }
}

TEST_CASE("cpu backend: misuse is reported, not silently computed", "[backend][cpu]") {
  TinyModel model("qwen2");
  auto fresh = make_backend(model.dir.str(), "cpu");
  CHECK(fresh->name() == "cpu");
  CHECK(fresh->vocab_size() == kVocab);
  CHECK(fresh->max_context() == 32768);
  CHECK(fresh->kv_bytes_per_block(16) == size_t(2) * 2 * 16 * 2 * 16 * sizeof(float));  // layers·K,V·tokens·kv·dim
  std::vector<float> logits;
  ForwardBatch batch;
  batch.tokens = {1, 2};
  batch.seqs = {slice(2, 0, {0})};
  CHECK_THROWS_WITH(fresh->forward(batch, logits), Catch::Contains("allocate_kv"));

  auto b = model.backend(4, 4);
  batch.tokens = {1, kVocab};
  CHECK_THROWS_WITH(b->forward(batch, logits), Catch::Contains("outside vocab"));
  batch.tokens = {1, 2, 3, 4, 5};
  batch.seqs = {slice(5, 0, {0})};  // 5 tokens need 2 blocks of 4
  CHECK_THROWS_WITH(b->forward(batch, logits), Catch::Contains("block_table has 1 blocks"));
  batch.seqs = {slice(4, 0, {0})};
  CHECK_THROWS_WITH(b->forward(batch, logits), Catch::Contains("slices claim 4"));

  CHECK_THROWS_WITH(make_backend(model.dir / "nope", "cpu"), Catch::Contains("cannot read"));
  CHECK_THROWS_WITH(make_backend(model.dir.str(), "tpu"), Catch::Contains("unknown device"));
}

TEST_CASE("cpu backend: missing or mis-shaped weights name the tensor", "[backend][cpu]") {
  TempDir dir("cpu-bad");
  TinyModelOptions o;
  o.arch = "qwen2";
  o.out_dir = dir.str();
  o.vocab = "none";
  o.vocab_size = kVocab;
  write_tiny_model(o);
  // Same config, but claim a wider MLP than the weights have.
  o.intermediate = 96;
  o.out_dir = (dir / "other");
  write_tiny_model(o);
  std::filesystem::copy_file(dir / "other/config.json", dir / "config.json",
                             std::filesystem::copy_options::overwrite_existing);
  CHECK_THROWS_WITH(make_backend(dir.str(), "cpu"),
                    Catch::Contains("model.layers.0.mlp.gate_proj.weight has shape [128, 64], expected [96, 64]"));
}
