#pragma once
// Policy sections: `pricing:`, `teams:`, `keys:`, `dlp:`, `guardrails:`, `audit:`, `cache:`.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "warden/config/position.hpp"

namespace warden::config {

// USD per 1M tokens.
struct PriceSet {
  double input_cache_hit = 0;
  double input_cache_miss = 0;
  double output = 0;
};

struct ModelPrice {
  std::string model;  // upstream model id (or alias)
  PriceSet prices;
  std::optional<PriceSet> off_peak;       // when set, used outside peak_windows
  std::vector<std::string> peak_windows;  // "HH:MM-HH:MM" UTC, weekdays
  Position pos;
};

struct RateLimits {
  int64_t rpm = 0;          // 0 = unlimited
  int64_t tpm = 0;
  int64_t concurrency = 0;
};

enum class BudgetMode { Hard, Soft };

struct Budget {
  double usd_per_month = 0;     // 0 = unlimited
  int64_t tokens_per_day = 0;   // 0 = unlimited
  BudgetMode mode = BudgetMode::Hard;
  std::vector<double> alert_at;  // fractions, e.g. 0.8
};

struct ToolRules {
  std::vector<std::string> allow;  // empty = all allowed
  std::vector<std::string> deny;
  std::string on_violation = "reject";  // reject (400 tool_not_allowed) | strip (drop the tools)
};

struct TeamGuardrails {
  bool disabled = false;                 // team kill switch: 503 model_disabled
  std::vector<std::string> blocked_terms;  // added to the global list for this team
};

struct Team {
  std::string name;
  std::vector<std::string> models;  // aliases; empty = all
  RateLimits rate_limits;
  Budget budget;
  std::map<std::string, std::string> dlp;  // detector → action (redact|block|allow)
  ToolRules tools;
  int64_t max_tokens = 0;  // 0 = no cap
  std::string max_tokens_mode = "clamp";  // clamp | reject (a request asking for more)
  int64_t max_prompt_tokens = 0;          // 0 = no limit (estimated/counted prompt tokens)
  RateLimits key_rate_limits;             // applied to each key of the team separately
  TeamGuardrails guardrails;
  Position pos;
  std::vector<Position> models_pos;  // parallel to models
};

struct KeyEntry {
  std::string id;
  std::string team;
  std::string sha256;               // lower-case hex of the key (computed when `key:` was given)
  std::vector<std::string> models;  // further restriction; empty = team's list
  Position pos;
  Position team_pos;
  std::vector<Position> models_pos;  // parallel to models
};

struct CustomDetector {
  std::string name;
  std::string regex;
  std::string action = "redact";  // redact | block
  Position pos;
};

struct DlpConfig {
  std::map<std::string, std::string> defaults;  // detector → action for teams that set none
  std::vector<CustomDetector> custom;
  bool scan_responses = true;  // also scan model output (redact/block/log per action)
};

struct GuardrailsConfig {
  bool kill_switch = false;
  std::vector<std::string> blocked_terms;
  std::vector<std::string> disabled_models;  // aliases answering 503 model_disabled
  std::vector<std::string> blocked_regex;    // Hyperscan-compatible patterns, input and output
  std::string moderation_url;                // OpenAI-compatible /v1/moderations base; empty = off
  std::string moderation_api_key;
  std::string moderation_failure = "open";   // open | closed (when the call fails)
  int64_t moderation_timeout_ms = 2000;
};

struct AuditConfig {
  std::string file;               // relative to state_dir unless absolute; empty = off
  std::string fsync = "batch";    // none | batch | always
  int64_t checkpoint_every = 100;  // an HMAC checkpoint record after this many records
  int64_t max_bytes = 0;           // rotate to FILE.N when larger (0 = never); the chain continues
};

struct CacheConfig {
  bool enabled = false;
  int64_t ttl_s = 300;
  int64_t max_entries = 10'000;
  bool allow_sampling = false;  // also cache requests with temperature > 0 (or unset)
};

}  // namespace warden::config
