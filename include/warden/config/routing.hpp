#pragma once
// `models:` (aliases callers put in "model") and `routing:` (retries, breakers, rules).
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "warden/config/position.hpp"

namespace warden::config {

struct ModelTarget {
  std::string provider;      // a key of Config::providers (validated)
  std::string model;         // upstream model id / local model name
  int64_t weight = 1;        // relative share among targets (0 = only on fallback order)
  std::string params_json;   // JSON object merged into the request; empty = none
  int64_t max_concurrency = 0;  // in-flight attempts on this target (0 = no cap); over it → next target
  Position pos;
  Position provider_pos;
};

struct ModelRoute {
  std::string alias;
  std::vector<ModelTarget> targets;
  std::vector<std::string> fallback;  // other aliases, tried in order (validated)
  Position pos;
  std::vector<Position> fallback_pos;  // parallel to fallback
};

struct RetryConfig {
  int max_attempts = 3;
  int64_t base_ms = 200;
  int64_t max_ms = 5'000;
  int64_t retry_after_max_ms = 30'000;  // an upstream retry-after is honoured up to this
  int64_t deadline_ms = 0;              // no new attempt or backoff past started+deadline (0 = none)
};

struct CircuitBreakerConfig {
  int failures = 5;
  int64_t window_s = 30;
  int64_t open_s = 30;
  int half_open_requests = 2;
};

// Every set field must match (empty = any).
struct RuleMatch {
  std::string team;
  std::string key;         // key id
  std::string model;       // the alias the caller asked for
  std::string workload;    // x-warden-workload
  std::string data_class;  // x-warden-data-class
  // Request complexity (router estimate: text bytes / 4).
  std::optional<int64_t> min_prompt_tokens;
  std::optional<int64_t> max_prompt_tokens;
  std::optional<bool> tools;          // true: the request offers tools; false: it offers none
  std::vector<std::string> keywords;  // any of them in the last user message (case-insensitive)
};

struct RoutingRule {
  RuleMatch when;
  std::string use;  // alias to route to instead (validated)
  Position pos;
  Position use_pos;
};

struct RoutingConfig {
  RetryConfig retries;
  CircuitBreakerConfig circuit_breaker;
  std::vector<RoutingRule> rules;  // first match wins
  // Requests with these x-warden-data-class values only go to `type: local` targets
  // (fallbacks included); none left → 503 no_eligible_target.
  std::vector<std::string> local_only_data_classes{"confidential"};
};

}  // namespace warden::config
