#pragma once
// `models:` (aliases callers put in "model") and `routing:` (retries, breakers, rules).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "warden/config/position.hpp"

namespace warden::config {

struct ModelTarget {
  std::string provider;      // a key of Config::providers (validated)
  std::string model;         // upstream model id / local model name
  int64_t weight = 1;        // relative share among targets (0 = only on fallback order)
  std::string params_json;   // JSON object merged into the request; empty = none
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
};

}  // namespace warden::config
