#pragma once
// Hugging Face tensor names of the supported decoder families.
#include <string>

namespace warden::engine::names {

inline std::string layer(int l) { return "model.layers." + std::to_string(l) + "."; }
inline const char* kEmbed = "model.embed_tokens.weight";
inline const char* kFinalNorm = "model.norm.weight";
inline const char* kLmHead = "lm_head.weight";
// Within a layer (append to layer(l)).
inline const char* kInputNorm = "input_layernorm.weight";
inline const char* kPostNorm = "post_attention_layernorm.weight";
inline std::string attn(const char* proj, const char* what = "weight") {
  return std::string("self_attn.") + proj + "." + what;
}
inline std::string mlp(const char* proj) { return std::string("mlp.") + proj + ".weight"; }
inline const char* kRouter = "mlp.gate.weight";
inline const char* kRouterBias = "mlp.gate.e_score_correction_bias";  // DeepSeek-V3 noaux_tc
inline std::string expert(int e, const char* proj) {
  return "mlp.experts." + std::to_string(e) + "." + proj + ".weight";
}
// DeepSeek: mlp.shared_experts.*; Qwen2-MoE: mlp.shared_expert.* plus mlp.shared_expert_gate.
inline std::string deepseek_shared(const char* proj) { return std::string("mlp.shared_experts.") + proj + ".weight"; }
inline std::string qwen_shared(const char* proj) { return std::string("mlp.shared_expert.") + proj + ".weight"; }
inline const char* kQwenSharedGate = "mlp.shared_expert_gate.weight";

}  // namespace warden::engine::names
