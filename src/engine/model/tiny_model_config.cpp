// tiny_model_config: the shapes make-tiny writes — small defaults per family, the
// presets, an optional base config.json, then explicit overrides.
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "warden/engine/model/tiny_model.hpp"

namespace warden::engine {

namespace {

constexpr int32_t kQwenVocab = 151936;     // R1-Distill-Qwen-1.5B (151665 used ids, padded)
constexpr int32_t kDeepseekVocab = 129280; // DeepSeek-V3
constexpr int32_t kTinyVocab = 512;

ModelConfig base_for_arch(const std::string& arch) {
  ModelConfig c;
  c.hidden_size = 64;
  c.num_layers = 2;
  c.num_heads = 4;
  c.num_kv_heads = 2;
  c.head_dim = 16;
  c.intermediate_size = 128;
  c.max_position_embeddings = 32768;
  c.rms_norm_eps = 1e-6;
  c.rope_theta = 10000.0;
  if (arch == "qwen2") {
    c.family = ModelFamily::Qwen2;
    c.architecture = "Qwen2ForCausalLM";
    c.model_type = "qwen2";
    c.qkv_bias = true;
  } else if (arch == "llama") {
    c.family = ModelFamily::Llama;
    c.architecture = "LlamaForCausalLM";
    c.model_type = "llama";
    c.rms_norm_eps = 1e-5;
    c.rope_theta = 500000.0;
    c.rope_scaling = RopeScaling{"llama3", 8.0, 1.0, 4.0, 8192};
  } else if (arch == "deepseek-moe") {
    // DeepSeek-V2-Lite's FFN layout scaled down, with standard GQA attention (no MLA).
    c.family = ModelFamily::DeepseekMoe;
    c.architecture = "DeepseekV2ForCausalLM";
    c.model_type = "deepseek_v2";
    c.num_layers = 3;
    c.moe = MoeConfig{};
    c.moe.num_experts = 8;
    c.moe.top_k = 2;
    c.moe.expert_intermediate = 32;
    c.moe.num_shared_experts = 2;
    c.moe.shared_intermediate = 64;
    c.moe.first_k_dense_replace = 1;
  } else if (arch == "deepseek-v2") {
    // The same MoE FFN with DeepSeek-V2-Lite's MLA attention and yarn rope, scaled down.
    c = base_for_arch("deepseek-moe");
    c.mla.enabled = true;
    c.mla.kv_lora_rank = 32;
    c.mla.qk_nope_head_dim = 16;
    c.mla.qk_rope_head_dim = 8;
    c.mla.v_head_dim = 16;
    c.num_kv_heads = c.num_heads;
    c.rope_scaling.type = "yarn";
    c.rope_scaling.factor = 40.0;
    c.rope_scaling.original_max_position_embeddings = 4096;
    c.rope_scaling.beta_fast = 32.0;
    c.rope_scaling.beta_slow = 1.0;
    c.rope_scaling.mscale = 0.707;
    c.rope_scaling.mscale_all_dim = 0.707;
  } else if (arch == "deepseek-v3") {
    // DeepSeek-V3/R1's layer layout scaled down: MLA with q LoRA, sigmoid scoring with
    // noaux_tc group-limited routing (e_score_correction_bias), normalise then scale.
    c = base_for_arch("deepseek-v2");
    c.architecture = "DeepseekV3ForCausalLM";
    c.model_type = "deepseek_v3";
    c.mla.q_lora_rank = 24;
    c.rope_scaling.mscale = 1.0;
    c.rope_scaling.mscale_all_dim = 1.0;
    c.moe.num_experts = 16;
    c.moe.top_k = 4;
    c.moe.n_group = 4;
    c.moe.topk_group = 2;
    c.moe.topk_method = MoeTopkKind::NoauxTc;
    c.moe.scoring = MoeScoringKind::Sigmoid;
    c.moe.norm_topk_prob = true;
    c.moe.routed_scaling_factor = 2.5;
    c.moe.num_shared_experts = 1;
  } else if (arch == "qwen2-moe") {
    c.family = ModelFamily::Qwen2Moe;
    c.architecture = "Qwen2MoeForCausalLM";
    c.model_type = "qwen2_moe";
    c.qkv_bias = true;
    c.moe.num_experts = 8;
    c.moe.top_k = 2;
    c.moe.expert_intermediate = 32;
    c.moe.shared_intermediate = 64;
    c.moe.shared_expert_gate = true;
  } else {
    throw std::runtime_error("unknown --arch " + arch + " (qwen2, llama, deepseek-moe, deepseek-v2, deepseek-v3, qwen2-moe)");
  }
  return c;
}

ModelConfig preset(const std::string& name) {
  if (name == "bench-100m") {
    // ~102M parameters: a Qwen2 body at 512 wide, tied to the real Qwen vocabulary so
    // the bench exercises the same LM-head shape and tokenizer as the real model.
    ModelConfig c = base_for_arch("qwen2");
    c.hidden_size = 512;
    c.num_layers = 8;
    c.num_heads = 8;
    c.num_kv_heads = 2;
    c.head_dim = 64;
    c.intermediate_size = 1536;
    c.tie_word_embeddings = true;
    c.vocab_size = kQwenVocab;
    return c;
  }
  if (name == "r1-distill-qwen-1.5b") {
    ModelConfig c = base_for_arch("qwen2");
    c.hidden_size = 1536;
    c.intermediate_size = 8960;
    c.num_layers = 28;
    c.num_heads = 12;
    c.num_kv_heads = 2;
    c.head_dim = 128;
    c.vocab_size = kQwenVocab;
    c.max_position_embeddings = 131072;
    c.rope_theta = 10000.0;
    c.rms_norm_eps = 1e-6;
    return c;
  }
  if (name == "r1-distill-llama-8b") {
    ModelConfig c = base_for_arch("llama");
    c.hidden_size = 4096;
    c.intermediate_size = 14336;
    c.num_layers = 32;
    c.num_heads = 32;
    c.num_kv_heads = 8;
    c.head_dim = 128;
    c.vocab_size = 128256;
    c.max_position_embeddings = 131072;
    c.bos_token_id = 128000;
    c.eos_token_ids = {128001};
    return c;
  }
  if (name == "deepseek-v2-lite") {
    ModelConfig c = base_for_arch("deepseek-v2");
    c.hidden_size = 2048;
    c.intermediate_size = 10944;
    c.num_layers = 27;
    c.num_heads = c.num_kv_heads = 16;
    c.head_dim = 128;
    c.mla.kv_lora_rank = 512;
    c.mla.qk_nope_head_dim = 128;
    c.mla.qk_rope_head_dim = 64;
    c.mla.v_head_dim = 128;
    c.moe.num_experts = 64;
    c.moe.top_k = 6;
    c.moe.num_shared_experts = 2;
    c.moe.expert_intermediate = 1408;
    c.moe.first_k_dense_replace = 1;
    c.vocab_size = 102400;
    c.max_position_embeddings = 163840;
    c.bos_token_id = 100000;
    c.eos_token_ids = {100001};
    return c;
  }
  throw std::runtime_error("unknown --preset " + name +
                           " (bench-100m, r1-distill-qwen-1.5b, r1-distill-llama-8b, deepseek-v2-lite)");
}

}  // namespace

ModelConfig tiny_model_config(const TinyModelOptions& o) {
  ModelConfig c;
  if (!o.config_file.empty()) {
    std::ifstream in(o.config_file);
    if (!in) throw std::runtime_error("cannot read --config " + o.config_file);
    std::stringstream ss;
    ss << in.rdbuf();
    c = parse_model_config(ss.str(), o.config_file);
  } else if (!o.preset.empty()) {
    c = preset(o.preset);
  } else {
    c = base_for_arch(o.arch);
  }
  if (o.config_file.empty() && c.vocab_size == 0) {
    if (o.vocab == "qwen") c.vocab_size = kQwenVocab;
    else if (o.vocab == "deepseek") c.vocab_size = kDeepseekVocab;
    else c.vocab_size = kTinyVocab;
  }
  if (o.hidden) c.hidden_size = *o.hidden;
  if (o.layers) c.num_layers = *o.layers;
  if (o.heads) c.num_heads = *o.heads;
  if (o.kv_heads) c.num_kv_heads = *o.kv_heads;
  if (o.head_dim) c.head_dim = *o.head_dim;
  if (o.intermediate) c.intermediate_size = *o.intermediate;
  if (o.vocab_size) c.vocab_size = *o.vocab_size;
  if (o.tie) c.tie_word_embeddings = *o.tie;
  if (o.experts) c.moe.num_experts = *o.experts;
  if (o.top_k) c.moe.top_k = *o.top_k;
  if (o.moe_intermediate) c.moe.expert_intermediate = *o.moe_intermediate;
  if (o.first_dense) c.moe.first_k_dense_replace = *o.first_dense;
  if (o.shared_experts) c.moe.num_shared_experts = *o.shared_experts;
  if (c.family == ModelFamily::DeepseekMoe)
    c.moe.shared_intermediate = c.moe.num_shared_experts * c.moe.expert_intermediate;

  // Special-token ids follow the tokenizer that goes with the vocabulary.
  if (o.config_file.empty() && c.eos_token_ids.empty()) {
    if (o.vocab == "qwen") {
      c.bos_token_id = 151646;
      c.eos_token_ids = {151643};
    } else if (o.vocab == "deepseek") {
      c.bos_token_id = 0;
      c.eos_token_ids = {1};
    } else if (o.vocab == "tiny") {
      c.bos_token_id = c.vocab_size - 4;
      c.eos_token_ids = {c.vocab_size - 7};
    }
  }
  c.torch_dtype = o.dtype == DType::F32 ? "float32" : o.dtype == DType::F16 ? "float16" : "bfloat16";
  if (o.dtype == DType::F8_E4M3) c.fp8.enabled = true;  // block size from --config, else 128 × 128
  else if (o.config_file.empty()) c.fp8.enabled = false;
  // Round-trip through config.json so what we return is exactly what a loader reads.
  return parse_model_config(model_config_to_json(c), "make-tiny config");
}

}  // namespace warden::engine
