#pragma once
// Token counts for limits, rate limits and budgets before the upstream reports usage.
// `TokenCounter` is the seam: an estimator now; the engine's exact tokenizer when the
// target's tokenizer.json is known (local targets), see counter_for().
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

// The counter for a request to `alias`: the engine tokenizer when every target of the
// alias is a local model whose tokenizer.json loads, else the estimator. Cached by path.
const TokenCounter& counter_for(const config::Config& cfg, const std::string& alias);

}  // namespace warden::policy
