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
  // half-open lets `half_open_requests` probes through at a time. An admission that took a
  // probe slot stores its ticket in *probe (0 otherwise); the call that settles the attempt
  // passes it back, so a probe frees its own slot once and a ticket from an earlier
  // half-open period frees nothing. Ticket 0 on a settle call: the legacy "any probe".
  bool allow(Clock::time_point now, const config::CircuitBreakerConfig& cfg, uint64_t* probe = nullptr);
  void on_success(Clock::time_point now, const config::CircuitBreakerConfig& cfg, uint64_t probe = 0);
  void on_failure(Clock::time_point now, const config::CircuitBreakerConfig& cfg, uint64_t probe = 0);
  // The attempt ended without telling anything about the target's health (caller error,
  // caller gone, concurrency gate refused).
  void on_neutral(uint64_t probe = 0);

  BreakerState state(Clock::time_point now, const config::CircuitBreakerConfig& cfg);
  // {"state":…,"failures_in_window":…,"opens":…,"open_remaining_ms":…,"probes_in_flight":…}
  std::string to_json(Clock::time_point now, const config::CircuitBreakerConfig& cfg);

 private:
  void prune(Clock::time_point now, const config::CircuitBreakerConfig& cfg);
  void open(Clock::time_point now);
  void free_probe(uint64_t probe);

  std::mutex mu_;
  BreakerState state_ = BreakerState::Closed;
  std::deque<Clock::time_point> failures_;  // inside the rolling window (closed state)
  Clock::time_point opened_at_{};
  int probes_in_flight_ = 0;
  int probe_successes_ = 0;
  uint64_t half_open_epoch_ = 0;  // a probe's ticket: the half-open period it was admitted in
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

// One attempt's hold on a target: the breaker admission (with its half-open probe ticket)
// and a concurrency slot. Whatever way the attempt ends (an outcome, an exception, or a
// cancelled coroutine whose frame is destroyed), the destructor gives the slot back and
// settles an unsettled probe as neutral, so nothing leaks (issue 15 defect 1).
class TargetHold {
 public:
  enum class Admit { Ok, BreakerOpen, Busy };
  TargetHold(std::shared_ptr<TargetState> state, const config::CircuitBreakerConfig& cfg)
      : state_(std::move(state)), cfg_(cfg) {}
  ~TargetHold() { reset(); }
  TargetHold(const TargetHold&) = delete;
  TargetHold& operator=(const TargetHold&) = delete;

  // Breaker first, then the concurrency gate (a refused gate settles the probe neutral).
  Admit admit(Clock::time_point now, int64_t max_concurrency);
  // Settle the attempt (at most once per admit); each also gives the slot back.
  void success(Clock::time_point now);
  void failure(Clock::time_point now);
  void neutral();
  // Gives back whatever is still held (neutral). Idempotent.
  void reset();

 private:
  void give_back_slot();
  std::shared_ptr<TargetState> state_;
  const config::CircuitBreakerConfig& cfg_;
  bool slot_ = false;
  bool admitted_ = false;
  uint64_t probe_ = 0;
};

// The target's state; created on first use. Thread-safe.
std::shared_ptr<TargetState> target_state(const config::ProviderConfig* provider, const config::ModelTarget& target);

// Every target of `config`: {"targets":[{"target":"p/m","alias":…,"state":…,…}]} — the admin
// API's GET /admin/breakers body.
std::string breakers_json(const config::Config& config);

}  // namespace warden::router
