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
};

struct Team {
  std::string name;
  std::vector<std::string> models;  // aliases; empty = all
  RateLimits rate_limits;
  Budget budget;
  std::map<std::string, std::string> dlp;  // detector → action (redact|block|allow)
  ToolRules tools;
  int64_t max_tokens = 0;  // 0 = no cap
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
};

struct GuardrailsConfig {
  bool kill_switch = false;
  std::vector<std::string> blocked_terms;
  std::vector<std::string> disabled_models;  // aliases answering 503 model_disabled
};

struct AuditConfig {
  std::string file;               // relative to state_dir unless absolute; empty = off
  std::string fsync = "batch";    // none | batch | always
};

struct CacheConfig {
  bool enabled = false;
  int64_t ttl_s = 300;
  int64_t max_entries = 10'000;
};

}  // namespace warden::config
