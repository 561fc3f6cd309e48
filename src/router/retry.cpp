#include "warden/router/retry.hpp"

#include <algorithm>

namespace warden::router {

namespace {
// 529 is Anthropic's "overloaded", its 503.
bool retryable_status(int s) { return s == 429 || s == 500 || s == 502 || s == 503 || s == 504 || s == 529; }
}  // namespace

Verdict classify(const providers::Outcome& out) {
  int s = out.upstream_status;
  if (s == 0) return out.retryable ? Verdict::Retry : Verdict::NextTarget;
  if (retryable_status(s)) return Verdict::Retry;
  if (s == 401 || s == 402 || s == 403) return Verdict::NextTarget;
  if (s >= 400 && s < 500) return Verdict::Stop;
  return Verdict::NextTarget;  // other 5xx (501, 505, 529 …): unhealthy, but not worth the same target again
}

bool counts_as_failure(const providers::Outcome& out) {
  if (out.ok) return false;
  int s = out.upstream_status;
  return s == 0 || s == 429 || s >= 500;
}

std::chrono::milliseconds backoff_delay(const config::RetryConfig& cfg, int retry,
                                        std::optional<std::chrono::milliseconds> retry_after,
                                        std::mt19937_64& rng) {
  if (retry_after) {
    auto cap = std::chrono::milliseconds(std::max<int64_t>(0, cfg.retry_after_max_ms));
    return std::clamp(*retry_after, std::chrono::milliseconds(0), cap);
  }
  int64_t ceiling = std::max<int64_t>(0, cfg.base_ms);
  for (int i = 1; i < retry && ceiling < cfg.max_ms; ++i) ceiling *= 2;
  ceiling = std::min(ceiling, std::max<int64_t>(0, cfg.max_ms));
  if (ceiling <= 0) return std::chrono::milliseconds(0);
  std::uniform_int_distribution<int64_t> dist(0, ceiling);
  return std::chrono::milliseconds(dist(rng));
}

}  // namespace warden::router
