// model_config_to_json: the config.json a Hugging Face checkpoint of the same
// family would carry, so tools that read real configs read ours unchanged.
#include <charconv>
#include <stdexcept>
#include <string>
#include <vector>

#include "warden/engine/model/model_config.hpp"

namespace warden::engine {

namespace {

std::string num(double v) {
  char buf[64];
  if (v == double(int64_t(v)) && v > -1e15 && v < 1e15) return std::to_string(int64_t(v)) + ".0";
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  std::string s(buf, res.ptr);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

class JsonObject {
 public:
  void raw(const std::string& key, const std::string& value) { fields_.push_back("\"" + key + "\": " + value); }
  void str(const std::string& key, const std::string& value) { raw(key, "\"" + value + "\""); }
  void integer(const std::string& key, int64_t v) { raw(key, std::to_string(v)); }
  void real(const std::string& key, double v) { raw(key, num(v)); }
  void boolean(const std::string& key, bool v) { raw(key, v ? "true" : "false"); }
  std::string text(const std::string& indent = "") const {
    std::string s = "{\n";
    for (size_t i = 0; i < fields_.size(); ++i) s += indent + "  " + fields_[i] + (i + 1 < fields_.size() ? ",\n" : "\n");
    return s + indent + "}";
  }

 private:
  std::vector<std::string> fields_;
};

std::string int_list(const std::vector<int64_t>& v) {
  if (v.size() == 1) return std::to_string(v[0]);
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

}  // namespace

std::string model_config_to_json(const ModelConfig& c) {
  JsonObject o;
  o.raw("architectures", "[\"" + c.architecture + "\"]");
  o.real("attention_dropout", 0.0);
  if (c.family == ModelFamily::Llama || c.family == ModelFamily::DeepseekMoe) o.boolean("attention_bias", c.qkv_bias);
  if (c.bos_token_id >= 0) o.integer("bos_token_id", c.bos_token_id);
  if (!c.eos_token_ids.empty()) o.raw("eos_token_id", int_list(c.eos_token_ids));
  if (c.mla.enabled) {
    // MLA head widths are qk_nope/qk_rope/v_head_dim below.
  } else if (c.family != ModelFamily::Qwen2 && c.family != ModelFamily::Qwen2Moe) o.integer("head_dim", c.head_dim);
  else if (c.head_dim != c.hidden_size / c.num_heads) o.integer("head_dim", c.head_dim);
  o.str("hidden_act", "silu");
  o.integer("hidden_size", c.hidden_size);
  o.real("initializer_range", 0.02);
  o.integer("intermediate_size", c.intermediate_size);
  o.integer("max_position_embeddings", c.max_position_embeddings);
  if (c.family == ModelFamily::Llama) o.boolean("mlp_bias", false);
  o.str("model_type", c.model_type);
  o.integer("num_attention_heads", c.num_heads);
  o.integer("num_hidden_layers", c.num_layers);
  o.integer("num_key_value_heads", c.num_kv_heads);
  if (c.family == ModelFamily::Llama) o.integer("pretraining_tp", 1);
  o.real("rms_norm_eps", c.rms_norm_eps);
  if (c.rope_scaling.type == "llama3") {
    JsonObject s;
    s.real("factor", c.rope_scaling.factor);
    s.real("high_freq_factor", c.rope_scaling.high_freq_factor);
    s.real("low_freq_factor", c.rope_scaling.low_freq_factor);
    s.integer("original_max_position_embeddings", c.rope_scaling.original_max_position_embeddings);
    s.str("rope_type", "llama3");
    o.raw("rope_scaling", s.text("  "));
  } else if (c.rope_scaling.type == "yarn") {
    JsonObject s;
    s.real("beta_fast", c.rope_scaling.beta_fast);
    s.real("beta_slow", c.rope_scaling.beta_slow);
    s.real("factor", c.rope_scaling.factor);
    s.real("mscale", c.rope_scaling.mscale);
    s.real("mscale_all_dim", c.rope_scaling.mscale_all_dim);
    s.integer("original_max_position_embeddings", c.rope_scaling.original_max_position_embeddings);
    s.str("type", "yarn");
    o.raw("rope_scaling", s.text("  "));
  } else {
    o.raw("rope_scaling", "null");
  }
  o.real("rope_theta", c.rope_theta);
  if (c.family == ModelFamily::Qwen2 || c.family == ModelFamily::Qwen2Moe) {
    o.integer("max_window_layers", c.num_layers);
    o.integer("sliding_window", int64_t(c.max_position_embeddings));
    o.boolean("use_sliding_window", false);
  }
  const MoeConfig& m = c.moe;
  if (c.family == ModelFamily::DeepseekMoe) {
    if (c.mla.enabled) {
      o.integer("kv_lora_rank", c.mla.kv_lora_rank);
      if (c.mla.q_lora_rank) o.integer("q_lora_rank", c.mla.q_lora_rank);
      else o.raw("q_lora_rank", "null");
      o.integer("qk_nope_head_dim", c.mla.qk_nope_head_dim);
      o.integer("qk_rope_head_dim", c.mla.qk_rope_head_dim);
      o.integer("v_head_dim", c.mla.v_head_dim);
    } else {
      // Standard GQA attention, not MLA (see model_config.hpp).
      o.raw("kv_lora_rank", "null");
      o.raw("q_lora_rank", "null");
    }
    o.integer("n_routed_experts", m.num_experts);
    o.integer("num_experts_per_tok", m.top_k);
    o.integer("n_shared_experts", m.num_shared_experts);
    o.integer("moe_intermediate_size", m.expert_intermediate);
    o.integer("first_k_dense_replace", m.first_k_dense_replace);
    o.integer("moe_layer_freq", m.moe_layer_freq);
    o.str("scoring_func", std::string(m.scoring.name()));
    o.str("topk_method", std::string(m.topk_method.name()));
    if (m.topk_method != MoeTopkKind::Greedy) {
      o.integer("n_group", m.n_group);
      o.integer("topk_group", m.topk_group);
    }
    o.boolean("norm_topk_prob", m.norm_topk_prob);
    o.real("routed_scaling_factor", m.routed_scaling_factor);
  } else if (c.family == ModelFamily::Qwen2Moe) {
    o.integer("num_experts", m.num_experts);
    o.integer("num_experts_per_tok", m.top_k);
    o.integer("moe_intermediate_size", m.expert_intermediate);
    o.integer("shared_expert_intermediate_size", m.shared_intermediate);
    o.boolean("norm_topk_prob", m.norm_topk_prob);
    o.integer("decoder_sparse_step", m.decoder_sparse_step);
    std::vector<int64_t> only(m.mlp_only_layers.begin(), m.mlp_only_layers.end());
    o.raw("mlp_only_layers", only.size() == 1 ? "[" + int_list(only) + "]" : int_list(only));
  }
  if (c.fp8.enabled) {
    JsonObject q;
    q.str("activation_scheme", "dynamic");
    q.str("fmt", "e4m3");
    q.str("quant_method", "fp8");
    q.raw("weight_block_size", "[" + std::to_string(c.fp8.block_rows) + ", " + std::to_string(c.fp8.block_cols) + "]");
    o.raw("quantization_config", q.text("  "));
  }
  o.boolean("tie_word_embeddings", c.tie_word_embeddings);
  o.str("torch_dtype", c.torch_dtype);
  o.str("transformers_version", "4.46.0");
  o.boolean("use_cache", true);
  o.integer("vocab_size", c.vocab_size);
  return o.text() + "\n";
}

}  // namespace warden::engine
