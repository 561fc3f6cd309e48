#pragma once
// Admission against the team's and the key's rpm / tpm / concurrency (429
// rate_limit_exceeded with retry-after and x-ratelimit-* headers). Concurrency is held
// until the filter is destroyed, so a request that dies anywhere still frees its slot.
#include <memory>

#include "warden/config/policy.hpp"
#include "warden/policy/filter.hpp"
#include "warden/policy/ratelimit/rate_limiter.hpp"

namespace warden::policy {

class RateLimitFilter final : public Filter {
 public:
  ~RateLimitFilter() override;
  asio::awaitable<FilterStatus> on_request(RequestContext& ctx) override;
  void on_complete(RequestContext& ctx) override;

 private:
  struct Held {
    std::shared_ptr<RateBucket> bucket;
    config::RateLimits limits;
  };
  std::vector<Held> held_;
  int64_t estimated_ = 0;
  bool released_ = false;
};

// "250ms", "1.5s", "2m30s" — the OpenAI style of x-ratelimit-reset-*.
std::string format_reset(double seconds);

}  // namespace warden::policy
