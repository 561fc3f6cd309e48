#pragma once
// Token counts for limits, rate limits and budgets before the upstream reports usage.
// `TokenCounter` is the seam: an estimator, or the engine's exact tokenizer when the
// target's tokenizer.json is known, see prompt_counter_for().
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "warden/api/chat_request.hpp"

namespace warden::config {
struct Config;
}

namespace warden::policy {

class TokenCounter {
 public:
  virtual ~TokenCounter() = default;
  virtual int64_t count(std::string_view text) const = 0;
  virtual const char* name() const = 0;
};

// ~4 bytes per token for Latin text, 1 token per CJK character (3 UTF-8 bytes) —
// the usual BPE averages; an estimate, never used where an upper bound is needed.
class EstimatingCounter final : public TokenCounter {
 public:
  int64_t count(std::string_view text) const override;
  const char* name() const override { return "estimate"; }
};

struct PromptSize {
  int64_t bytes = 0;             // UTF-8 bytes of every text the model reads
  int64_t tokens = 0;            // counter's count plus per-message overhead
  // No byte-level BPE token is shorter than one byte, so bytes + overhead bounds the
  // real prompt tokens from above; budgets reserve this so they can never overspend.
  int64_t upper_bound_tokens = 0;
};

// Per-message framing tokens (role markers etc.) added to both counts.
inline constexpr int64_t kMessageOverheadTokens = 8;

PromptSize measure_prompt(const api::ChatRequest& req, const TokenCounter& counter);

// How prompts to `alias` are counted. Exact when every target of the alias has the same
// known tokenizer: the provider's `tokenizer:` file, else a local provider's
// model_dir/tokenizer.json. Otherwise the estimator counts (for limits that tolerate an
// estimate) and budgets reserve the one-token-per-byte upper bound.
struct PromptCounter {
  const TokenCounter* counter = nullptr;  // never null
  bool exact = false;
  // For refusal messages: "counted by the tokenizer of provider 'x'" or why not.
  std::string source;
  // A configured `providers.<name>.tokenizer` that no longer loads: the caller refuses
  // (503 tokenizer_unavailable) rather than count with something the operator did not ask for.
  bool unavailable = false;
  // Prompt tokens a budget reserves: the exact count when exact, else the upper bound.
  int64_t budget_tokens(const PromptSize& p) const { return exact ? p.tokens : p.upper_bound_tokens; }
};
PromptCounter prompt_counter_for(const config::Config& cfg, const std::string& alias);

// prompt_counter_for(...).counter (the estimator when a configured tokenizer is unavailable).
const TokenCounter& counter_for(const config::Config& cfg, const std::string& alias);

}  // namespace warden::policy
