#include "warden/engine/model/model_config.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>
#include <simdjson.h>
#include <sstream>
#include <stdexcept>

namespace warden::engine {

namespace {

using simdjson::dom::element;
using simdjson::dom::object;

struct Reader {
  object obj;
  std::string source;

  [[noreturn]] void fail(const std::string& what) const { throw std::runtime_error(source + ": " + what); }

  // Absent and null both mean "not set".
  bool has(const char* key) const {
    element e;
    return !obj[key].get(e) && !e.is_null();
  }
  int64_t integer(const char* key, std::optional<int64_t> fallback = std::nullopt) const {
    element e;
    if (obj[key].get(e) || e.is_null()) {
      if (!fallback) fail(std::string("missing field ") + key);
      return *fallback;
    }
    int64_t v;
    if (!e.get(v)) return v;
    double d;
    if (!e.get(d) && d == double(int64_t(d))) return int64_t(d);
    fail(std::string("field ") + key + " must be an integer");
  }
  double number(const char* key, double fallback) const {
    element e;
    if (obj[key].get(e) || e.is_null()) return fallback;
    double d;
    if (!e.get(d)) return d;
    int64_t i;
    if (!e.get(i)) return double(i);
    fail(std::string("field ") + key + " must be a number");
  }
  bool boolean(const char* key, bool fallback) const {
    element e;
    if (obj[key].get(e) || e.is_null()) return fallback;
    bool b;
    if (e.get(b)) fail(std::string("field ") + key + " must be true or false");
    return b;
  }
  std::string string(const char* key, const std::string& fallback) const {
    element e;
    if (obj[key].get(e) || e.is_null()) return fallback;
    std::string_view s;
    if (e.get(s)) fail(std::string("field ") + key + " must be a string");
    return std::string(s);
  }
  std::vector<int64_t> int_list(const char* key) const {
    element e;
    std::vector<int64_t> out;
    if (obj[key].get(e) || e.is_null()) return out;
    int64_t v;
    if (!e.get(v)) return {v};
    simdjson::dom::array arr;
    if (e.get(arr)) fail(std::string("field ") + key + " must be an integer or a list");
    for (auto x : arr) {
      if (x.get(v)) fail(std::string("field ") + key + " must hold integers");
      out.push_back(v);
    }
    return out;
  }
};

int32_t positive(const Reader& r, const char* key, int64_t v) {
  if (v <= 0 || v > (1 << 30)) r.fail(std::string("field ") + key + " must be a positive integer");
  return int32_t(v);
}

}  // namespace

bool ModelConfig::is_moe_layer(int32_t layer) const {
  if (moe.num_experts <= 0) return false;
  if (family == ModelFamily::Qwen2Moe) {
    if (std::find(moe.mlp_only_layers.begin(), moe.mlp_only_layers.end(), layer) != moe.mlp_only_layers.end())
      return false;
    return (layer + 1) % std::max(1, moe.decoder_sparse_step) == 0;
  }
  return layer >= moe.first_k_dense_replace && layer % std::max(1, moe.moe_layer_freq) == 0;
}

namespace {
// DeepSeek's yarn_get_mscale.
double yarn_mscale(double scale, double mscale) { return scale <= 1.0 ? 1.0 : 0.1 * mscale * std::log(scale) + 1.0; }
}  // namespace

double ModelConfig::softmax_scale() const {
  double scale = 1.0 / std::sqrt(double(k_head_dim()));
  if (mla.enabled && rope_scaling.type == "yarn" && rope_scaling.mscale_all_dim != 0.0) {
    const double m = yarn_mscale(rope_scaling.factor, rope_scaling.mscale_all_dim);
    scale *= m * m;
  }
  return scale;
}

int64_t ModelConfig::parameter_count() const {
  int64_t h = hidden_size, q = int64_t(num_heads) * head_dim, kv = int64_t(num_kv_heads) * head_dim;
  int64_t n = int64_t(vocab_size) * h * (tie_word_embeddings ? 1 : 2) + h;
  for (int32_t l = 0; l < num_layers; ++l) {
    if (mla.enabled) {
      const int64_t heads = num_heads, qh = mla.q_head_dim();
      n += 2 * h;
      n += mla.q_lora_rank ? h * mla.q_lora_rank + mla.q_lora_rank + int64_t(mla.q_lora_rank) * heads * qh
                           : h * heads * qh;
      n += h * (mla.kv_lora_rank + mla.qk_rope_head_dim) + mla.kv_lora_rank;
      n += int64_t(mla.kv_lora_rank) * heads * (mla.qk_nope_head_dim + mla.v_head_dim);
      n += heads * mla.v_head_dim * h;
    } else {
      n += 2 * h + h * q + 2 * h * kv + q * h;
    }
    if (qkv_bias && !mla.enabled) n += q + 2 * kv;
    if (is_moe_layer(l)) {
      n += int64_t(moe.num_experts) * h + int64_t(moe.num_experts) * 3 * h * moe.expert_intermediate;
      if (moe.topk_method == MoeTopkKind::NoauxTc) n += moe.num_experts;
      n += 3 * h * int64_t(moe.shared_intermediate) + (moe.shared_expert_gate ? h : 0);
    } else {
      n += 3 * h * int64_t(intermediate_size);
    }
  }
  return n;
}

ModelConfig parse_model_config(std::string_view json, const std::string& source) {
  simdjson::dom::parser parser;
  element root;
  simdjson::padded_string text(json);
  if (auto err = parser.parse(text).get(root)) throw std::runtime_error(source + ": " + simdjson::error_message(err));
  Reader r;
  r.source = source;
  if (root.get(r.obj)) r.fail("not a JSON object");

  ModelConfig c;
  simdjson::dom::array archs;
  std::string_view arch;
  if (r.obj["architectures"].get(archs) || archs.size() == 0 || archs.at(0).get(arch))
    r.fail("missing architectures[0]");
  c.architecture = std::string(arch);
  c.model_type = r.string("model_type", "");
  if (c.architecture == "Qwen2ForCausalLM") {
    c.family = ModelFamily::Qwen2;
  } else if (c.architecture == "LlamaForCausalLM") {
    c.family = ModelFamily::Llama;
  } else if (c.architecture == "DeepseekV2ForCausalLM" || c.architecture == "DeepseekV3ForCausalLM") {
    c.family = ModelFamily::DeepseekMoe;
  } else if (c.architecture == "Qwen2MoeForCausalLM") {
    c.family = ModelFamily::Qwen2Moe;
  } else {
    r.fail("architecture " + c.architecture +
           " is not supported (Qwen2ForCausalLM, LlamaForCausalLM, DeepseekV2ForCausalLM, Qwen2MoeForCausalLM)");
  }

  c.hidden_size = positive(r, "hidden_size", r.integer("hidden_size"));
  c.num_layers = positive(r, "num_hidden_layers", r.integer("num_hidden_layers"));
  c.num_heads = positive(r, "num_attention_heads", r.integer("num_attention_heads"));
  c.num_kv_heads = positive(r, "num_key_value_heads", r.integer("num_key_value_heads", c.num_heads));
  c.vocab_size = positive(r, "vocab_size", r.integer("vocab_size"));
  c.head_dim = positive(r, "head_dim", r.integer("head_dim", c.hidden_size / c.num_heads));
  c.intermediate_size = positive(r, "intermediate_size", r.integer("intermediate_size"));
  if (c.num_heads % c.num_kv_heads) r.fail("num_attention_heads must be a multiple of num_key_value_heads");
  if (c.head_dim % 2) r.fail("head_dim must be even for rotary embeddings");
  c.max_position_embeddings = r.integer("max_position_embeddings", 4096);
  c.rms_norm_eps = r.number("rms_norm_eps", 1e-6);
  c.rope_theta = r.number("rope_theta", 10000.0);
  c.tie_word_embeddings = r.boolean("tie_word_embeddings", false);
  c.torch_dtype = r.string("torch_dtype", r.string("dtype", "bfloat16"));
  c.bos_token_id = r.integer("bos_token_id", -1);
  c.eos_token_ids = r.int_list("eos_token_id");
  std::string act = r.string("hidden_act", "silu");
  if (act != "silu") r.fail("hidden_act " + act + " is not supported (silu only)");
  if (r.boolean("use_sliding_window", false)) r.fail("use_sliding_window: true is not supported");
  if (r.has("partial_rotary_factor") && r.number("partial_rotary_factor", 1.0) != 1.0)
    r.fail("partial_rotary_factor other than 1.0 is not supported");

  switch (c.family) {
    case ModelFamily::Qwen2:
    case ModelFamily::Qwen2Moe:
      c.qkv_bias = r.boolean("attention_bias", true);  // Qwen2 always has QKV bias
      break;
    case ModelFamily::Llama:
    case ModelFamily::DeepseekMoe:
      c.qkv_bias = c.o_bias = r.boolean("attention_bias", false);
      c.mlp_bias = r.boolean("mlp_bias", false);
      break;
  }
  if (c.mlp_bias) r.fail("mlp_bias: true is not supported");

  element scaling;
  if (!r.obj["rope_scaling"].get(scaling) && !scaling.is_null()) {
    Reader s{};
    s.source = source + " rope_scaling";
    if (scaling.get(s.obj)) r.fail("rope_scaling must be an object or null");
    c.rope_scaling.type = s.string("rope_type", s.string("type", "default"));
    if (c.rope_scaling.type == "llama3") {
      c.rope_scaling.factor = s.number("factor", 8.0);
      c.rope_scaling.low_freq_factor = s.number("low_freq_factor", 1.0);
      c.rope_scaling.high_freq_factor = s.number("high_freq_factor", 4.0);
      c.rope_scaling.original_max_position_embeddings = s.integer("original_max_position_embeddings", 8192);
      if (c.rope_scaling.high_freq_factor <= c.rope_scaling.low_freq_factor)
        r.fail("rope_scaling.high_freq_factor must exceed low_freq_factor");
    } else if (c.rope_scaling.type == "yarn") {
      c.rope_scaling.factor = s.number("factor", 1.0);
      c.rope_scaling.original_max_position_embeddings = s.integer("original_max_position_embeddings", 4096);
      c.rope_scaling.beta_fast = s.number("beta_fast", 32.0);
      c.rope_scaling.beta_slow = s.number("beta_slow", 1.0);
      c.rope_scaling.mscale = s.number("mscale", 1.0);
      c.rope_scaling.mscale_all_dim = s.number("mscale_all_dim", 0.0);
    } else if (c.rope_scaling.type != "default") {
      r.fail("rope_scaling type " + c.rope_scaling.type + " is not supported (llama3; yarn with MLA)");
    }
  }

  if (c.family == ModelFamily::DeepseekMoe) {
    if (r.has("kv_lora_rank")) {
      auto& m = c.mla;
      m.enabled = true;
      m.kv_lora_rank = positive(r, "kv_lora_rank", r.integer("kv_lora_rank"));
      m.q_lora_rank = r.has("q_lora_rank") ? positive(r, "q_lora_rank", r.integer("q_lora_rank")) : 0;
      m.qk_nope_head_dim = positive(r, "qk_nope_head_dim", r.integer("qk_nope_head_dim"));
      m.qk_rope_head_dim = positive(r, "qk_rope_head_dim", r.integer("qk_rope_head_dim"));
      m.v_head_dim = positive(r, "v_head_dim", r.integer("v_head_dim"));
      if (m.qk_rope_head_dim % 2) r.fail("qk_rope_head_dim must be even");
      c.num_kv_heads = c.num_heads;  // K/V are decompressed per head
      if (c.qkv_bias) r.fail("attention_bias: true is not supported with MLA");
    } else if (r.has("q_lora_rank")) {
      r.fail("q_lora_rank without kv_lora_rank");
    }
    std::string topk_method = r.string("topk_method", "greedy");
    if (topk_method == "gready") topk_method = "greedy";  // HF DeepseekV2Config's default spelling
    const auto method = MoeTopkMethod::parse(topk_method);
    if (!method) r.fail("topk_method " + topk_method + " is not supported (" + MoeTopkMethod::accepted() + ")");
    c.moe.topk_method = *method;
    if (r.has("n_routed_experts")) {
      auto& m = c.moe;
      m.num_experts = positive(r, "n_routed_experts", r.integer("n_routed_experts"));
      m.top_k = positive(r, "num_experts_per_tok", r.integer("num_experts_per_tok"));
      m.expert_intermediate = positive(r, "moe_intermediate_size", r.integer("moe_intermediate_size"));
      m.num_shared_experts = int32_t(r.integer("n_shared_experts", 0));
      m.shared_intermediate = m.num_shared_experts * m.expert_intermediate;
      const std::string scoring = r.string("scoring_func", "softmax");
      const auto parsed = MoeScoring::parse(scoring);
      if (!parsed) r.fail("scoring_func " + scoring + " is not supported (" + MoeScoring::accepted() + ")");
      m.scoring = *parsed;
      m.norm_topk_prob = r.boolean("norm_topk_prob", false);
      m.routed_scaling_factor = r.number("routed_scaling_factor", 1.0);
      m.scale_when_normalized = c.architecture == "DeepseekV3ForCausalLM";
      m.first_k_dense_replace = int32_t(r.integer("first_k_dense_replace", 0));
      if (m.topk_method != MoeTopkKind::Greedy) {
        m.n_group = positive(r, "n_group", r.integer("n_group"));
        m.topk_group = positive(r, "topk_group", r.integer("topk_group"));
        if (m.num_experts % m.n_group) r.fail("n_routed_experts must be a multiple of n_group");
        if (m.topk_group > m.n_group) r.fail("topk_group exceeds n_group");
        if (m.top_k > m.topk_group * (m.num_experts / m.n_group))
          r.fail("num_experts_per_tok exceeds the experts in topk_group groups");
        if (m.topk_method == MoeTopkKind::NoauxTc && m.num_experts / m.n_group < 2)
          r.fail("noaux_tc needs at least 2 experts per group");
      }
      m.moe_layer_freq = positive(r, "moe_layer_freq", r.integer("moe_layer_freq", 1));
    }
  } else if (c.family == ModelFamily::Qwen2Moe) {
    auto& m = c.moe;
    m.num_experts = int32_t(r.integer("num_experts", 0));
    if (m.num_experts > 0) {
      m.top_k = positive(r, "num_experts_per_tok", r.integer("num_experts_per_tok"));
      m.expert_intermediate = positive(r, "moe_intermediate_size", r.integer("moe_intermediate_size"));
      m.shared_intermediate = int32_t(r.integer("shared_expert_intermediate_size", 0));
      m.shared_expert_gate = m.shared_intermediate > 0;
      m.norm_topk_prob = r.boolean("norm_topk_prob", false);
      m.decoder_sparse_step = positive(r, "decoder_sparse_step", r.integer("decoder_sparse_step", 1));
      for (auto l : r.int_list("mlp_only_layers")) m.mlp_only_layers.push_back(int32_t(l));
    }
  }
  element quant;
  if (!r.obj["quantization_config"].get(quant) && !quant.is_null()) {
    Reader q{};
    q.source = source + " quantization_config";
    if (quant.get(q.obj)) r.fail("quantization_config must be an object");
    const std::string method = q.string("quant_method", "");
    if (method != "fp8") r.fail("quantization " + method + " is not supported (fp8 block-scaled only)");
    if (q.string("fmt", "e4m3") != "e4m3") r.fail("fp8 fmt " + q.string("fmt", "") + " is not supported (e4m3)");
    c.fp8.enabled = true;
    simdjson::dom::array block;
    if (!q.obj["weight_block_size"].get(block)) {
      int64_t br = 0, bc = 0;
      if (block.size() != 2 || block.at(0).get(br) || block.at(1).get(bc) || br <= 0 || bc <= 0)
        r.fail("quantization_config.weight_block_size must be two positive integers");
      c.fp8.block_rows = int32_t(br);
      c.fp8.block_cols = int32_t(bc);
    }
  }
  if (c.rope_scaling.type == "yarn" && !c.mla.enabled)
    r.fail("rope_scaling yarn is only supported with DeepSeek MLA attention");
  if (c.moe.num_experts > 0) {
    if (c.moe.top_k > c.moe.num_experts) r.fail("num_experts_per_tok exceeds the number of experts");
  }
  return c;
}

ModelConfig load_model_config(const std::string& model_dir) {
  auto path = std::filesystem::path(model_dir) / "config.json";
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_model_config(ss.str(), path.string());
}

}  // namespace warden::engine
