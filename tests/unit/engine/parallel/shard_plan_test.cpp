// Tensor-parallel sharding plan: validation messages for shapes that don't split, the
// ranges partitioning heads / columns / vocab, KV-head replication, and weight slicing
// checked element by element against the unsplit weights.
#include <catch2/catch.hpp>

#include <memory>
#include <set>
#include <stdexcept>

#include "unit/engine/weights/temp_dir.hpp"
#include "warden/engine/backend/cpu/cpu_weights.hpp"
#include "warden/engine/model/tiny_model.hpp"
#include "warden/engine/parallel/shard_plan.hpp"

using namespace warden::engine;
using namespace warden::engine::parallel;
using warden::test::TempDir;

namespace {

ModelConfig tiny(const std::string& arch) {
  TinyModelOptions o;
  o.arch = arch;
  o.vocab = "none";
  o.vocab_size = 512;
  return tiny_model_config(o);
}

}  // namespace

TEST_CASE("shard plan: shapes that don't split are refused with the field named", "[parallel]") {
  ModelConfig c = tiny("qwen2");  // 4 heads, 2 KV heads, intermediate 128
  CHECK_NOTHROW(validate_tensor_parallel(c, 1));
  CHECK_NOTHROW(validate_tensor_parallel(c, 2));
  CHECK_NOTHROW(validate_tensor_parallel(c, 4));  // KV heads replicated
  CHECK_THROWS_WITH(validate_tensor_parallel(c, 0), Catch::Contains(">= 1"));
  CHECK_THROWS_AS(validate_tensor_parallel(c, 3), std::invalid_argument);
  CHECK_THROWS_WITH(validate_tensor_parallel(c, 3), Catch::Contains("num_attention_heads 4 is not divisible by 3"));
  CHECK_THROWS_WITH(validate_tensor_parallel(c, 8), Catch::Contains("num_attention_heads"));

  ModelConfig kv = c;  // 12 heads over 3 KV heads: 4 ranks can neither split nor replicate them
  kv.num_heads = 12;
  kv.num_kv_heads = 3;
  kv.intermediate_size = 96;  // divisible by 3, 4 and 6: only the KV heads are in the way
  CHECK_THROWS_WITH(validate_tensor_parallel(kv, 4), Catch::Contains("num_key_value_heads 3"));
  CHECK_NOTHROW(validate_tensor_parallel(kv, 3));
  CHECK_NOTHROW(validate_tensor_parallel(kv, 6));  // 2 ranks per KV head
  kv.num_kv_heads = 6;  // 6 KV heads, tp 4: 6 % 4 != 0 and 6 > 4
  CHECK_THROWS_WITH(validate_tensor_parallel(kv, 4), Catch::Contains("num_key_value_heads 6 is not divisible by 4"));

  ModelConfig inter = c;
  inter.intermediate_size = 130;
  CHECK_THROWS_WITH(validate_tensor_parallel(inter, 4), Catch::Contains("intermediate_size 130"));

  ModelConfig moe = tiny("deepseek-moe");  // expert 32, shared 64, first layer dense
  CHECK_NOTHROW(validate_tensor_parallel(moe, 4));
  moe.moe.expert_intermediate = 30;
  CHECK_THROWS_WITH(validate_tensor_parallel(moe, 4), Catch::Contains("moe_intermediate_size 30"));

  CHECK_THROWS_WITH(make_shard_plan(c, 2, 2), Catch::Contains("rank 2"));
}

TEST_CASE("shard plan: ranges partition the model; replicated KV heads serve their query heads", "[parallel]") {
  struct Case {
    int32_t heads, kv_heads, world;
  };
  for (const Case& k : {Case{4, 2, 2}, Case{4, 2, 4}, Case{4, 1, 4}, Case{8, 4, 2}, Case{12, 2, 4}, Case{12, 3, 6}}) {
    DYNAMIC_SECTION(k.heads << " heads, " << k.kv_heads << " kv, tp " << k.world) {
      ModelConfig c = tiny("llama");
      c.num_heads = k.heads;
      c.num_kv_heads = k.kv_heads;
      c.vocab_size = 510;  // uneven over 4 ranks
      c.intermediate_size = 120;
      const int32_t group = k.heads / k.kv_heads;
      int32_t next_head = 0, next_col = 0, next_vocab = 0;
      std::set<int32_t> kv_seen;
      for (int32_t r = 0; r < k.world; ++r) {
        const ShardPlan p = make_shard_plan(c, r, k.world);
        CHECK(p.heads.begin == next_head);
        CHECK(p.heads.size == k.heads / k.world);
        next_head = p.heads.end();
        CHECK(p.intermediate.begin == next_col);
        next_col = p.intermediate.end();
        CHECK(p.vocab.begin == next_vocab);
        CHECK(p.vocab.size <= p.vocab_chunk);
        next_vocab = p.vocab.end();
        // Every query head of the rank reads a KV head the rank holds, at the same local
        // group offset the unsplit attention uses (local head i → local KV head i / group).
        for (int32_t h = p.heads.begin; h < p.heads.end(); ++h) {
          const int32_t g = h / group;
          CHECK(g >= p.kv_heads.begin);
          CHECK(g < p.kv_heads.end());
          CHECK(g - p.kv_heads.begin == (h - p.heads.begin) / (p.shard_config.num_heads / p.shard_config.num_kv_heads));
          kv_seen.insert(g);
        }
        CHECK(p.shard_config.num_heads == p.heads.size);
        CHECK(p.shard_config.num_kv_heads == p.kv_heads.size);
        CHECK(p.shard_config.hidden_size == c.hidden_size);
        CHECK(p.shard_config.vocab_size == c.vocab_size);
        CHECK(p.adds_o_bias == (r == 0));
      }
      CHECK(next_head == k.heads);
      CHECK(next_col == 120);
      CHECK(next_vocab == 510);
      CHECK(int32_t(kv_seen.size()) == k.kv_heads);
    }
  }
}

TEST_CASE("shard plan: sliced weights are the unsplit weights' rows and columns", "[parallel]") {
  for (const char* arch : {"qwen2", "deepseek-v3"}) {
    DYNAMIC_SECTION(arch) {
      TempDir dir(std::string("shard-") + arch);
      TinyModelOptions o;
      o.arch = arch;
      o.out_dir = dir.str();
      o.vocab = "none";
      o.vocab_size = 510;
      o.dtype = DType::F32;
      o.seed = 3;
      const ModelConfig c = write_tiny_model(o);
      auto full = std::make_shared<const cpu::CpuWeights>(c, dir.str());
      const int32_t world = 2;
      for (int32_t r = 0; r < world; ++r) {
        const ShardPlan p = make_shard_plan(c, r, world);
        auto s = cpu::CpuWeights::shard(full, p);
        CHECK(s->config().num_heads == c.num_heads / world);
        CHECK(s->embed() == full->embed());  // replicated, shared
        // LM head: rows [vocab.begin, vocab.end) of the full head.
        REQUIRE(s->lm_head().rows == p.vocab.size);
        CHECK(s->lm_head().data[0] == full->lm_head().data[int64_t(p.vocab.begin) * c.hidden_size]);
        for (size_t l = 0; l < full->layers().size(); ++l) {
          const cpu::LayerWeights& f = full->layers()[l];
          const cpu::LayerWeights& w = s->layers()[l];
          // o_proj: every row, this rank's head columns.
          const int64_t vd = c.v_head_dim(), cols = int64_t(p.heads.size) * vd;
          REQUIRE(w.o.rows == c.hidden_size);
          REQUIRE(w.o.cols == cols);
          bool o_equal = true;
          for (int64_t i = 0; i < w.o.rows; ++i)
            for (int64_t j = 0; j < cols; ++j)
              o_equal &= w.o.data[i * cols + j] == f.o.data[i * f.o.cols + p.heads.begin * vd + j];
          CHECK(o_equal);
          if (!c.mla.enabled) {
            CHECK(w.q.rows == p.heads.size * c.head_dim);
            CHECK(w.q.data == f.q.data + int64_t(p.heads.begin) * c.head_dim * c.hidden_size);  // a view
            CHECK(w.k_bias == f.k_bias + int64_t(p.kv_heads.begin) * c.head_dim);
          } else {
            CHECK(w.kv_a.data == f.kv_a.data);  // the latent is replicated
            CHECK(w.kv_b.rows == p.heads.size * (c.mla.qk_nope_head_dim + c.mla.v_head_dim));
          }
          if (!f.is_moe) {
            const int64_t ic = p.intermediate.size;
            REQUIRE(w.mlp.down.cols == ic);
            bool down_equal = true;
            for (int64_t i = 0; i < w.mlp.down.rows; ++i)
              for (int64_t j = 0; j < ic; ++j)
                down_equal &= w.mlp.down.data[i * ic + j] == f.mlp.down.data[i * f.mlp.down.cols + p.intermediate.begin + j];
            CHECK(down_equal);
            CHECK(w.mlp.gate.rows == ic);
          } else {
            CHECK(w.moe.router.data == f.moe.router.data);
            REQUIRE(w.moe.experts.size() == f.moe.experts.size());
            CHECK(w.moe.experts[1].up.rows == p.expert_intermediate.size);
            CHECK(w.moe.shared.down.cols == p.shared_intermediate.size);
          }
        }
      }
    }
  }
}
