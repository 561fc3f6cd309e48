#pragma once
// Per-target circuit breaker and concurrency gate. State lives in a process-wide registry
// keyed by target identity (provider name, type, base URL, model), outside the config
// snapshot, so it survives a reload that leaves the target unchanged; thresholds are read
// from the snapshot at each call, so a reload changes them at once.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>

#include "warden/config/config.hpp"

namespace warden::router {

using Clock = std::chrono::steady_clock;

enum class BreakerState { Closed, Open, HalfOpen };
const char* to_string(BreakerState s);

// Thread-safe (one mutex; held for a few comparisons).
class CircuitBreaker {
 public:
  // May this attempt go to the target? Open → false until the cool-down ends, then
  // half-open lets `half_open_requests` probes through at a time.
  bool allow(Clock::time_point now, const config::CircuitBreakerConfig& cfg);
  void on_success(Clock::time_point now, const config::CircuitBreakerConfig& cfg);
  void on_failure(Clock::time_point now, const config::CircuitBreakerConfig& cfg);
  // The attempt ended without telling anything about the target's health (caller error).
  void on_neutral();

  BreakerState state(Clock::time_point now, const config::CircuitBreakerConfig& cfg);
  // {"state":…,"failures_in_window":…,"opens":…,"open_remaining_ms":…,"probes_in_flight":…}
  std::string to_json(Clock::time_point now, const config::CircuitBreakerConfig& cfg);

 private:
  void prune(Clock::time_point now, const config::CircuitBreakerConfig& cfg);
  void open(Clock::time_point now);

  std::mutex mu_;
  BreakerState state_ = BreakerState::Closed;
  std::deque<Clock::time_point> failures_;  // inside the rolling window (closed state)
  Clock::time_point opened_at_{};
  int probes_in_flight_ = 0;
  int probe_successes_ = 0;
  uint64_t opens_ = 0;
};

struct TargetState {
  std::string key;  // "provider/model"
  CircuitBreaker breaker;
  std::atomic<int64_t> in_flight{0};
  std::atomic<uint64_t> attempts{0};
  std::atomic<uint64_t> failures{0};

  // Concurrency cap (0 = none). True when a slot was taken; release() gives it back.
  bool try_acquire(int64_t cap);
  void release() { in_flight.fetch_sub(1, std::memory_order_relaxed); }
};

// The target's state; created on first use. Thread-safe.
std::shared_ptr<TargetState> target_state(const config::ProviderConfig* provider, const config::ModelTarget& target);

// Every target of `config`: {"targets":[{"target":"p/m","alias":…,"state":…,…}]} — the admin
// API's GET /admin/breakers body.
std::string breakers_json(const config::Config& config);

}  // namespace warden::router
