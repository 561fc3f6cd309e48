#include "warden/policy/ratelimit/rate_limiter.hpp"

#include <algorithm>
#include <cmath>
#include <functional>

namespace warden::policy {

std::shared_ptr<RateBucket> RateLimiter::bucket(const std::string& scope) {
  auto& shard = shards_[std::hash<std::string>{}(scope) % shards_.size()];
  std::lock_guard lock(shard.mu);
  auto& slot = shard.map[scope];
  if (!slot) slot = std::make_shared<RateBucket>();
  return slot;
}

size_t RateLimiter::size() {
  size_t n = 0;
  for (auto& s : shards_) {
    std::lock_guard lock(s.mu);
    n += s.map.size();
  }
  return n;
}

namespace {

// Token buckets that refill a full minute's allowance per minute, continuously.
void refill(RateBucket& b, const config::RateLimits& l, Clock::time_point now) {
  if (!b.primed) {
    b.primed = true;
    b.requests = static_cast<double>(l.rpm);
    b.tokens = static_cast<double>(l.tpm);
    b.updated = now;
    return;
  }
  double dt = std::chrono::duration<double>(now - b.updated).count();
  if (dt <= 0) return;
  b.updated = now;
  if (l.rpm > 0) b.requests = std::min<double>(l.rpm, b.requests + dt * l.rpm / 60.0);
  if (l.tpm > 0) b.tokens = std::min<double>(l.tpm, b.tokens + dt * l.tpm / 60.0);
  // A limit raised by a reload starts from the new ceiling rather than the old one.
  if (l.rpm > 0 && b.requests > l.rpm) b.requests = l.rpm;
  if (l.tpm > 0 && b.tokens > l.tpm) b.tokens = l.tpm;
}

}  // namespace

RateDecision RateLimiter::admit(RateBucket& b, const config::RateLimits& l, int64_t tokens,
                                Clock::time_point now) {
  RateDecision d;
  std::lock_guard lock(b.mu);
  refill(b, l, now);
  // A request bigger than a whole minute's allowance needs a full bucket, not more.
  double need_tokens = l.tpm > 0 ? std::min<double>(static_cast<double>(tokens), l.tpm) : 0;
  if (l.rpm > 0) {
    d.limit_requests = l.rpm;
    d.remaining_requests = static_cast<int64_t>(std::floor(std::max(0.0, b.requests)));
    d.reset_requests_s = (l.rpm - b.requests) * 60.0 / l.rpm;
  }
  if (l.tpm > 0) {
    d.limit_tokens = l.tpm;
    d.remaining_tokens = static_cast<int64_t>(std::floor(std::max(0.0, b.tokens)));
    d.reset_tokens_s = (l.tpm - b.tokens) * 60.0 / l.tpm;
  }
  if (l.rpm > 0 && b.requests < 1.0) {
    d.allowed = false;
    d.limit = "rpm";
    d.retry_after_s = (1.0 - b.requests) * 60.0 / l.rpm;
    return d;
  }
  if (l.tpm > 0 && b.tokens < need_tokens) {
    d.allowed = false;
    d.limit = "tpm";
    d.retry_after_s = (need_tokens - b.tokens) * 60.0 / l.tpm;
    return d;
  }
  if (l.concurrency > 0) {
    int64_t cur = b.in_flight.load(std::memory_order_acquire);
    if (cur >= l.concurrency) {
      d.allowed = false;
      d.limit = "concurrency";
      d.retry_after_s = 1;
      return d;
    }
  }
  b.in_flight.fetch_add(1, std::memory_order_acq_rel);
  if (l.rpm > 0) {
    b.requests -= 1;
    d.remaining_requests = static_cast<int64_t>(std::floor(std::max(0.0, b.requests)));
  }
  if (l.tpm > 0) {
    b.tokens -= need_tokens;
    d.remaining_tokens = static_cast<int64_t>(std::floor(std::max(0.0, b.tokens)));
  }
  return d;
}

void RateLimiter::refund(RateBucket& b, const config::RateLimits& l, int64_t tokens) {
  std::lock_guard lock(b.mu);
  if (l.rpm > 0) b.requests = std::min<double>(l.rpm, b.requests + 1);
  if (l.tpm > 0) b.tokens = std::min<double>(l.tpm, b.tokens + std::min<double>(tokens, l.tpm));
  b.in_flight.fetch_sub(1, std::memory_order_acq_rel);
}

void RateLimiter::settle(RateBucket& b, const config::RateLimits& l, int64_t estimated,
                         int64_t actual) {
  std::lock_guard lock(b.mu);
  if (l.tpm > 0) {
    double charged = std::min<double>(estimated, l.tpm);
    b.tokens = std::min<double>(l.tpm, b.tokens - (static_cast<double>(actual) - charged));
  }
}

}  // namespace warden::policy
