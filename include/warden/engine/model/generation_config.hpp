#pragma once
// A model folder's generation_config.json: the publisher's EOS ids (Llama 3.1 lists three
// where config.json names one) and its recommended sampling (DeepSeek's R1 distills:
// temperature 0.6, top_p 0.95), used when a request does not say.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace warden::engine {

struct GenerationDefaults {
  std::vector<int32_t> eos_token_ids;  // eos_token_id: one id or a list
  std::optional<float> temperature;
  std::optional<float> top_p;
  std::optional<int32_t> top_k;
};

// Reads DIR/generation_config.json; all empty when the file does not exist. Throws
// std::runtime_error naming the file when it exists but is not valid JSON or has a field
// of the wrong type.
GenerationDefaults load_generation_config(const std::string& model_dir);

}  // namespace warden::engine
