#pragma once
// Requests-per-minute, tokens-per-minute and concurrency per scope ("team:NAME",
// "key:ID"). Buckets live in sharded maps owned by the Runtime (not the config snapshot),
// so a reload keeps the counters of every scope whose name is unchanged and simply
// applies the new limits. Each bucket has its own small lock: contention is per scope.
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "warden/config/policy.hpp"

namespace warden::policy {

using Clock = std::chrono::steady_clock;

struct RateBucket {
  std::mutex mu;
  bool primed = false;
  double requests = 0;  // tokens left in the requests bucket
  double tokens = 0;    // tokens left in the tokens bucket (may go negative: debt)
  Clock::time_point updated{};
  std::atomic<int64_t> in_flight{0};
};

struct RateDecision {
  bool allowed = true;
  std::string limit;          // "rpm" | "tpm" | "concurrency" when refused
  double retry_after_s = 0;   // when refused
  // For x-ratelimit-* headers (−1 = that limit is off).
  int64_t limit_requests = -1, remaining_requests = -1;
  int64_t limit_tokens = -1, remaining_tokens = -1;
  double reset_requests_s = 0, reset_tokens_s = 0;
};

class RateLimiter {
 public:
  std::shared_ptr<RateBucket> bucket(const std::string& scope);

  // Admits one request estimated at `tokens`, or refuses without taking anything.
  static RateDecision admit(RateBucket& b, const config::RateLimits& limits, int64_t tokens,
                            Clock::time_point now = Clock::now());
  // Undo an admission (a later scope refused).
  static void refund(RateBucket& b, const config::RateLimits& limits, int64_t tokens);
  // Charge the difference between the real and the estimated tokens; release concurrency.
  static void settle(RateBucket& b, const config::RateLimits& limits, int64_t estimated,
                     int64_t actual);
  static void release(RateBucket& b) { b.in_flight.fetch_sub(1, std::memory_order_acq_rel); }

  size_t size();

 private:
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, std::shared_ptr<RateBucket>> map;
  };
  std::array<Shard, 16> shards_;
};

}  // namespace warden::policy
