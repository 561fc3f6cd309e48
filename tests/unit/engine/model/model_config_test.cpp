// config.json parsing with real Hugging Face field names and the published configs.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "warden/engine/model/model_config.hpp"
#include "warden/engine/model/tiny_model.hpp"

using namespace warden::engine;

namespace {

// DeepSeek-R1-Distill-Qwen-1.5B's config.json as published.
const char* kR1DistillQwen15B = R"({
  "architectures": ["Qwen2ForCausalLM"],
  "attention_dropout": 0.0,
  "bos_token_id": 151643,
  "eos_token_id": 151643,
  "hidden_act": "silu",
  "hidden_size": 1536,
  "initializer_range": 0.02,
  "intermediate_size": 8960,
  "max_position_embeddings": 131072,
  "max_window_layers": 21,
  "model_type": "qwen2",
  "num_attention_heads": 12,
  "num_hidden_layers": 28,
  "num_key_value_heads": 2,
  "rms_norm_eps": 1e-06,
  "rope_theta": 10000,
  "sliding_window": 4096,
  "tie_word_embeddings": false,
  "torch_dtype": "bfloat16",
  "transformers_version": "4.44.0",
  "use_cache": true,
  "use_mrope": false,
  "use_sliding_window": false,
  "vocab_size": 151936
})";

const char* kR1DistillLlama8B = R"({
  "architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
  "bos_token_id": 128000, "eos_token_id": 128001, "hidden_act": "silu", "hidden_size": 4096,
  "initializer_range": 0.02, "intermediate_size": 14336, "max_position_embeddings": 131072,
  "mlp_bias": false, "model_type": "llama", "num_attention_heads": 32, "num_hidden_layers": 32,
  "num_key_value_heads": 8, "pretraining_tp": 1, "rms_norm_eps": 1e-05,
  "rope_scaling": {"factor": 8.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                   "original_max_position_embeddings": 8192, "rope_type": "llama3"},
  "rope_theta": 500000.0, "tie_word_embeddings": false, "torch_dtype": "bfloat16", "use_cache": true,
  "vocab_size": 128256
})";

// DeepSeek-V2-Lite's MoE fields, with standard attention (its real config adds MLA).
// `extra` adds fields; keys in `extra` replace the defaults (JSON keys must be unique).
std::string deepseek_moe(const std::string& extra) {
  std::string json = R"({"architectures": ["DeepseekV2ForCausalLM"], "model_type": "deepseek_v2", "hidden_size": 2048,
    "intermediate_size": 10944, "num_hidden_layers": 27, "num_attention_heads": 16, "num_key_value_heads": 16,
    "vocab_size": 102400, "n_routed_experts": 64, "num_experts_per_tok": 6, "n_shared_experts": 2,
    "moe_intermediate_size": 1408, "norm_topk_prob": false, "routed_scaling_factor": 1.0)";
  const std::pair<const char*, const char*> defaults[] = {{"first_k_dense_replace", "1"},
                                                          {"moe_layer_freq", "1"},
                                                          {"scoring_func", "\"softmax\""},
                                                          {"topk_method", "\"greedy\""}};
  for (auto [key, value] : defaults)
    if (extra.find(std::string("\"") + key + "\"") == std::string::npos)
      json += std::string(", \"") + key + "\": " + value;
  return json + extra + "}";
}

}  // namespace

TEST_CASE("model config: DeepSeek-R1-Distill-Qwen-1.5B", "[model]") {
  ModelConfig c = parse_model_config(kR1DistillQwen15B);
  CHECK(c.family == ModelFamily::Qwen2);
  CHECK(c.hidden_size == 1536);
  CHECK(c.num_layers == 28);
  CHECK(c.num_heads == 12);
  CHECK(c.num_kv_heads == 2);
  CHECK(c.head_dim == 128);  // derived: hidden / heads
  CHECK(c.intermediate_size == 8960);
  CHECK(c.vocab_size == 151936);
  CHECK(c.qkv_bias);
  CHECK_FALSE(c.o_bias);
  CHECK_FALSE(c.tie_word_embeddings);
  CHECK(c.rms_norm_eps == 1e-6);
  CHECK(c.rope_theta == 10000.0);
  CHECK(c.rope_scaling.type == "default");
  CHECK(c.eos_token_ids == std::vector<int64_t>{151643});
  CHECK(c.moe.num_experts == 0);
  // 1.78B parameters: Qwen2.5-1.5B's 1,543,714,304 plus the untied 151936 × 1536 LM head.
  CHECK(c.parameter_count() == 1543714304LL + 151936LL * 1536);
}

TEST_CASE("model config: DeepSeek-R1-Distill-Llama-8B with llama3 rope scaling", "[model]") {
  ModelConfig c = parse_model_config(kR1DistillLlama8B);
  CHECK(c.family == ModelFamily::Llama);
  CHECK(c.head_dim == 128);
  CHECK_FALSE(c.qkv_bias);
  CHECK(c.rope_theta == 500000.0);
  CHECK(c.rope_scaling.type == "llama3");
  CHECK(c.rope_scaling.factor == 8.0);
  CHECK(c.rope_scaling.high_freq_factor == 4.0);
  CHECK(c.rope_scaling.original_max_position_embeddings == 8192);
  CHECK(c.rms_norm_eps == 1e-5);
  // Llama-3.1-8B has 8.03B parameters.
  CHECK(c.parameter_count() == Approx(8.03e9).epsilon(0.002));
}

TEST_CASE("model config: DeepSeek MoE FFN fields and which layers are MoE", "[model]") {
  ModelConfig c = parse_model_config(deepseek_moe(""));
  CHECK(c.family == ModelFamily::DeepseekMoe);
  CHECK(c.moe.num_experts == 64);
  CHECK(c.moe.top_k == 6);
  CHECK(c.moe.shared_intermediate == 2 * 1408);
  CHECK(c.moe.scoring == "softmax");
  CHECK_FALSE(c.moe.norm_topk_prob);
  CHECK_FALSE(c.is_moe_layer(0));  // first_k_dense_replace: 1
  CHECK(c.is_moe_layer(1));
  CHECK(c.is_moe_layer(26));
  ModelConfig every_other = parse_model_config(deepseek_moe(R"(, "moe_layer_freq": 2, "first_k_dense_replace": 0)"));
  CHECK(every_other.is_moe_layer(0));
  CHECK_FALSE(every_other.is_moe_layer(1));
  CHECK_FALSE(c.mla.enabled);  // kv_lora_rank absent: standard GQA attention
  CHECK_THROWS_WITH(parse_model_config(deepseek_moe(R"(, "q_lora_rank": 64)")),
                    Catch::Contains("q_lora_rank without kv_lora_rank"));
  CHECK_THROWS_WITH(parse_model_config(deepseek_moe(R"(, "topk_method": "noaux_tc")")),
                    Catch::Contains("missing field n_group"));
  CHECK_THROWS_WITH(parse_model_config(deepseek_moe(R"(, "topk_method": "random")")),
                    Catch::Contains("topk_method random is not supported"));
  ModelConfig grouped = parse_model_config(
      deepseek_moe(R"(, "topk_method": "group_limited_greedy", "n_group": 8, "topk_group": 3)"));
  CHECK(grouped.moe.topk_method == "group_limited_greedy");
  CHECK(grouped.moe.n_group == 8);
  CHECK(grouped.moe.topk_group == 3);
  CHECK_THROWS_WITH(
      parse_model_config(deepseek_moe(R"(, "topk_method": "group_limited_greedy", "n_group": 7, "topk_group": 3)")),
      Catch::Contains("multiple of n_group"));
  CHECK_THROWS_WITH(parse_model_config(deepseek_moe(R"(, "scoring_func": "relu")")),
                    Catch::Contains("scoring_func relu"));
}

TEST_CASE("model config: DeepSeek-V2-Lite with MLA and yarn", "[model]") {
  ModelConfig c = parse_model_config(deepseek_moe(R"(, "kv_lora_rank": 512, "q_lora_rank": null,
    "qk_nope_head_dim": 128, "qk_rope_head_dim": 64, "v_head_dim": 128, "rope_theta": 10000,
    "max_position_embeddings": 163840, "rope_scaling": {"beta_fast": 32, "beta_slow": 1, "factor": 40,
    "mscale": 0.707, "mscale_all_dim": 0.707, "original_max_position_embeddings": 4096, "type": "yarn"})"));
  CHECK(c.mla.enabled);
  CHECK(c.mla.q_lora_rank == 0);
  CHECK(c.k_head_dim() == 192);
  CHECK(c.v_head_dim() == 128);
  CHECK(c.rope_dim() == 64);
  CHECK(c.num_kv_heads == 16);
  CHECK(c.rope_scaling.type == "yarn");
  CHECK(c.rope_scaling.factor == 40.0);
  // 192^-0.5 × (0.1 · 0.707 · ln 40 + 1)²
  const double m = 0.1 * 0.707 * std::log(40.0) + 1.0;
  CHECK(c.softmax_scale() == Approx(m * m / std::sqrt(192.0)));
  // DeepSeek-V2-Lite: 15.7B parameters in total.
  CHECK(c.parameter_count() == Approx(15.7e9).epsilon(0.01));
  CHECK_THROWS_WITH(parse_model_config(R"({"architectures": ["LlamaForCausalLM"], "hidden_size": 64,
      "num_hidden_layers": 1, "num_attention_heads": 4, "vocab_size": 10, "intermediate_size": 8,
      "rope_scaling": {"type": "yarn", "factor": 4}})"),
                    Catch::Contains("yarn is only supported with DeepSeek MLA"));
}

TEST_CASE("model config: DeepSeek-V3 / R1 (MLA + q LoRA, noaux_tc, fp8)", "[model]") {
  ModelConfig c = parse_model_config(R"({"architectures": ["DeepseekV3ForCausalLM"], "model_type": "deepseek_v3",
    "hidden_size": 7168, "intermediate_size": 18432, "moe_intermediate_size": 2048, "num_hidden_layers": 61,
    "num_nextn_predict_layers": 1, "num_attention_heads": 128, "num_key_value_heads": 128, "n_shared_experts": 1,
    "n_routed_experts": 256, "num_experts_per_tok": 8, "n_group": 8, "topk_group": 4, "topk_method": "noaux_tc",
    "scoring_func": "sigmoid", "norm_topk_prob": true, "routed_scaling_factor": 2.5, "first_k_dense_replace": 3,
    "moe_layer_freq": 1, "q_lora_rank": 1536, "kv_lora_rank": 512, "qk_nope_head_dim": 128,
    "qk_rope_head_dim": 64, "v_head_dim": 128, "vocab_size": 129280, "rms_norm_eps": 1e-06,
    "rope_theta": 10000, "max_position_embeddings": 163840, "tie_word_embeddings": false,
    "rope_scaling": {"beta_fast": 32, "beta_slow": 1, "factor": 40, "mscale": 1.0, "mscale_all_dim": 1.0,
                     "original_max_position_embeddings": 4096, "type": "yarn"},
    "quantization_config": {"activation_scheme": "dynamic", "fmt": "e4m3", "quant_method": "fp8",
                            "weight_block_size": [128, 128]}})");
  CHECK(c.mla.enabled);
  CHECK(c.mla.q_lora_rank == 1536);
  CHECK(c.moe.topk_method == "noaux_tc");
  CHECK(c.moe.scale_when_normalized);
  CHECK(c.fp8.enabled);
  CHECK(c.fp8.block_rows == 128);
  CHECK_FALSE(c.is_moe_layer(2));
  CHECK(c.is_moe_layer(3));
  // DeepSeek-V3: 671B parameters without the multi-token-prediction module.
  CHECK(c.parameter_count() == Approx(671e9).epsilon(0.01));
}

TEST_CASE("model config: Qwen2-MoE field names", "[model]") {
  ModelConfig c = parse_model_config(R"({"architectures": ["Qwen2MoeForCausalLM"], "hidden_size": 2048,
    "intermediate_size": 5632, "num_hidden_layers": 24, "num_attention_heads": 16, "num_key_value_heads": 16,
    "vocab_size": 151936, "num_experts": 60, "num_experts_per_tok": 4, "moe_intermediate_size": 1408,
    "shared_expert_intermediate_size": 5632, "norm_topk_prob": false, "decoder_sparse_step": 1,
    "mlp_only_layers": [3]})");
  CHECK(c.family == ModelFamily::Qwen2Moe);
  CHECK(c.qkv_bias);
  CHECK(c.moe.num_experts == 60);
  CHECK(c.moe.shared_expert_gate);
  CHECK(c.is_moe_layer(0));
  CHECK_FALSE(c.is_moe_layer(3));
}

TEST_CASE("model config: unusable configs name the field", "[model]") {
  CHECK_THROWS_WITH(parse_model_config(R"({"architectures": ["GPT2LMHeadModel"]})"),
                    Catch::Contains("GPT2LMHeadModel is not supported"));
  CHECK_THROWS_WITH(parse_model_config(R"({"architectures": ["Qwen2ForCausalLM"], "hidden_size": 64})"),
                    Catch::Contains("missing field num_hidden_layers"));
  CHECK_THROWS_WITH(parse_model_config(R"({"architectures": ["LlamaForCausalLM"], "hidden_size": 64,
      "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 3, "vocab_size": 10,
      "intermediate_size": 8})"),
                    Catch::Contains("multiple of num_key_value_heads"));
  CHECK_THROWS_WITH(parse_model_config("{not json"), Catch::Contains("config.json"));
}

TEST_CASE("model config: make-tiny configs and presets survive a config.json round trip", "[model]") {
  for (const char* arch : {"qwen2", "llama", "deepseek-moe", "deepseek-v2", "deepseek-v3", "qwen2-moe"}) {
    TinyModelOptions o;
    o.arch = arch;
    o.vocab = "none";
    ModelConfig c = tiny_model_config(o);
    ModelConfig again = parse_model_config(model_config_to_json(c));
    CHECK(model_config_to_json(again) == model_config_to_json(c));
    CHECK(again.architecture == c.architecture);
    CHECK(again.moe.num_experts == c.moe.num_experts);
  }
  TinyModelOptions o;
  o.preset = "r1-distill-qwen-1.5b";
  ModelConfig c = tiny_model_config(o);
  ModelConfig real = parse_model_config(kR1DistillQwen15B);
  CHECK(c.hidden_size == real.hidden_size);
  CHECK(c.num_layers == real.num_layers);
  CHECK(c.intermediate_size == real.intermediate_size);
  CHECK(c.num_kv_heads == real.num_kv_heads);
  CHECK(c.vocab_size == real.vocab_size);
  CHECK(c.parameter_count() == real.parameter_count());
  o.preset = "deepseek-v2-lite";
  CHECK(tiny_model_config(o).parameter_count() == Approx(15.7e9).epsilon(0.01));
  o.preset = "bench-100m";
  CHECK(tiny_model_config(o).parameter_count() == Approx(1.0e8).epsilon(0.05));
}
