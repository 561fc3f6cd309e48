#pragma once
// What to do after a failed attempt, and how long to wait before the next one.
#include <chrono>
#include <optional>
#include <random>

#include "warden/config/routing.hpp"
#include "warden/providers/provider.hpp"

namespace warden::router {

enum class Verdict {
  Retry,       // connect error, timeout before the first byte, 429/500/502/503/504: same target again
  NextTarget,  // the provider account is refused (401/402/403) or any other upstream failure: try elsewhere
  Stop,        // the request itself is wrong (400, 404, 413, 422): no other target would accept it
};

Verdict classify(const providers::Outcome& out);

// Whether this failure counts against the target's circuit breaker (upstream ill-health,
// not a caller's bad request).
bool counts_as_failure(const providers::Outcome& out);

// Delay before retry number `retry` (1 = first retry): full jitter, uniform in
// [0, min(max_ms, base_ms·2^(retry-1))]; a retry-after from the upstream replaces it,
// capped at retry_after_max_ms.
std::chrono::milliseconds backoff_delay(const config::RetryConfig& cfg, int retry,
                                        std::optional<std::chrono::milliseconds> retry_after,
                                        std::mt19937_64& rng);

}  // namespace warden::router
