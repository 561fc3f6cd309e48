#pragma once
// `providers:` — upstream APIs and the embedded engine.
#include <cstdint>
#include <map>
#include <string>

#include "warden/config/position.hpp"

namespace warden::config {

enum class ProviderType { OpenAI, Anthropic, Local };
// DeepSeek's reasoning_content rule for multi-turn requests going to this provider:
// Required = assistant turns must carry reasoning_content back (tool-call rounds),
// Forbidden = reject requests that carry it, Strip = remove it before sending.
enum class ReasoningEcho { Required, Forbidden, Strip };

struct ProviderTimeouts {
  int64_t connect_ms = 3'000;
  int64_t first_byte_ms = 600'000;
  int64_t idle_ms = 120'000;
  int64_t total_ms = 900'000;
};

struct KvCacheConfig {
  int block_tokens = 16;
  double gpu_memory_fraction = 0.85;
  bool prefix_caching = true;
  int64_t num_blocks = 0;  // 0 = derive from memory
};

struct ProviderConfig {
  std::string name;
  ProviderType type = ProviderType::OpenAI;

  // openai / anthropic
  std::string base_url;  // e.g. https://api.deepseek.com (scheme://host[:port][/prefix])
  std::string api_key;   // secret; may be empty (e.g. ${VAR:-} unset) → no auth header sent
  std::string ca_file;   // PEM CA bundle replacing the system store (tests); empty = system
  ProviderTimeouts timeouts;
  // Default `required`: DeepSeek V4 thinking mode answers 400 when a tool-call turn comes back
  // without its reasoning_content; legacy deepseek-reasoner needs `forbidden`.
  ReasoningEcho reasoning_echo = ReasoningEcho::Required;
  // A Hugging Face tokenizer.json for this provider's models (e.g. DeepSeek-V3's for
  // DeepSeek's cloud models): rate limits, budgets and count_tokens count prompts exactly.
  // Empty: local providers use model_dir/tokenizer.json, others an upper bound.
  std::string tokenizer;
  // The request field that carries the (hashed) end-user id to an `openai` upstream:
  // DeepSeek's `user_id` (default), OpenAI's `user`, or "" (none = not sent).
  std::string user_field = "user_id";
  int64_t max_connections = 256;              // pool size per I/O thread
  std::map<std::string, std::string> headers;  // extra headers sent upstream (values may be secrets)

  // local
  std::string model_dir;
  std::string device = "auto";  // auto | cpu | cuda:N
  int tensor_parallel = 1;
  int max_num_seqs = 64;
  int64_t max_num_batched_tokens = 2048;  // per-step token budget (chunked prefill)
  int64_t max_model_len = 0;              // 0 = the model's context, capped by the KV pool
  KvCacheConfig kv_cache;

  Position pos;

  // Same settings (used to keep pools/engines across reloads).
  bool operator==(const ProviderConfig& o) const;
};

const char* to_string(ProviderType t);
const char* to_string(ReasoningEcho r);

}  // namespace warden::config
