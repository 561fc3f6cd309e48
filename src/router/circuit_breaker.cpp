#include "warden/common/json_quote.hpp"
#include "warden/router/circuit_breaker.hpp"

#include <map>
#include <set>

namespace warden::router {

const char* to_string(BreakerState s) {
  switch (s) {
    case BreakerState::Closed: return "closed";
    case BreakerState::Open: return "open";
    case BreakerState::HalfOpen: return "half_open";
  }
  return "closed";
}

namespace {
std::chrono::seconds secs(int64_t s) { return std::chrono::seconds(s < 0 ? 0 : s); }

std::string json_string(std::string_view s) { return json_quoted(s); }
}  // namespace

void CircuitBreaker::prune(Clock::time_point now, const config::CircuitBreakerConfig& cfg) {
  while (!failures_.empty() && now - failures_.front() >= secs(cfg.window_s)) failures_.pop_front();
  if (state_ == BreakerState::Open && now - opened_at_ >= secs(cfg.open_s)) {
    state_ = BreakerState::HalfOpen;
    probes_in_flight_ = 0;
    probe_successes_ = 0;
    ++half_open_epoch_;
  }
}

void CircuitBreaker::open(Clock::time_point now) {
  state_ = BreakerState::Open;
  opened_at_ = now;
  failures_.clear();
  probes_in_flight_ = 0;
  probe_successes_ = 0;
  ++opens_;
}

void CircuitBreaker::free_probe(uint64_t probe) {
  if (state_ != BreakerState::HalfOpen || probes_in_flight_ <= 0) return;
  if (probe == 0 || probe == half_open_epoch_) --probes_in_flight_;
}

bool CircuitBreaker::allow(Clock::time_point now, const config::CircuitBreakerConfig& cfg, uint64_t* probe) {
  std::lock_guard lock(mu_);
  if (probe) *probe = 0;
  if (cfg.failures <= 0) return true;  // breaker disabled
  prune(now, cfg);
  switch (state_) {
    case BreakerState::Closed: return true;
    case BreakerState::Open: return false;
    case BreakerState::HalfOpen:
      if (probes_in_flight_ >= std::max(1, cfg.half_open_requests)) return false;
      ++probes_in_flight_;
      if (probe) *probe = half_open_epoch_;
      return true;
  }
  return true;
}

void CircuitBreaker::on_success(Clock::time_point now, const config::CircuitBreakerConfig& cfg, uint64_t probe) {
  std::lock_guard lock(mu_);
  prune(now, cfg);
  if (state_ != BreakerState::HalfOpen) return;
  free_probe(probe);
  if (++probe_successes_ >= std::max(1, cfg.half_open_requests)) {
    state_ = BreakerState::Closed;
    failures_.clear();
  }
}

void CircuitBreaker::on_failure(Clock::time_point now, const config::CircuitBreakerConfig& cfg, uint64_t) {
  std::lock_guard lock(mu_);
  if (cfg.failures <= 0) return;
  prune(now, cfg);
  switch (state_) {
    case BreakerState::HalfOpen: open(now); break;  // a failed probe: cool down again
    case BreakerState::Open: break;                 // an attempt admitted before it opened
    case BreakerState::Closed:
      failures_.push_back(now);
      if (int64_t(failures_.size()) >= cfg.failures) open(now);
      break;
  }
}

void CircuitBreaker::on_neutral(uint64_t probe) {
  std::lock_guard lock(mu_);
  free_probe(probe);
}

BreakerState CircuitBreaker::state(Clock::time_point now, const config::CircuitBreakerConfig& cfg) {
  std::lock_guard lock(mu_);
  prune(now, cfg);
  return state_;
}

std::string CircuitBreaker::to_json(Clock::time_point now, const config::CircuitBreakerConfig& cfg) {
  std::lock_guard lock(mu_);
  prune(now, cfg);
  int64_t remaining = 0;
  if (state_ == BreakerState::Open) {
    remaining = std::chrono::duration_cast<std::chrono::milliseconds>(opened_at_ + secs(cfg.open_s) - now).count();
  }
  return std::string("{\"state\":\"") + to_string(state_) + "\",\"failures_in_window\":" +
         std::to_string(failures_.size()) + ",\"opens\":" + std::to_string(opens_) +
         ",\"open_remaining_ms\":" + std::to_string(remaining) +
         ",\"probes_in_flight\":" + std::to_string(probes_in_flight_) + "}";
}

bool TargetState::try_acquire(int64_t cap) {
  int64_t cur = in_flight.load(std::memory_order_relaxed);
  do {
    if (cap > 0 && cur >= cap) return false;
  } while (!in_flight.compare_exchange_weak(cur, cur + 1, std::memory_order_relaxed));
  return true;
}

TargetHold::Admit TargetHold::admit(Clock::time_point now, int64_t max_concurrency) {
  reset();
  if (!state_->breaker.allow(now, cfg_, &probe_)) return Admit::BreakerOpen;
  admitted_ = true;
  if (!state_->try_acquire(max_concurrency)) {
    neutral();
    return Admit::Busy;
  }
  slot_ = true;
  return Admit::Ok;
}

void TargetHold::give_back_slot() {
  if (slot_) state_->release();
  slot_ = false;
}

void TargetHold::success(Clock::time_point now) {
  give_back_slot();
  if (admitted_) state_->breaker.on_success(now, cfg_, probe_);
  admitted_ = false;
}

void TargetHold::failure(Clock::time_point now) {
  give_back_slot();
  if (admitted_) state_->breaker.on_failure(now, cfg_, probe_);
  admitted_ = false;
}

void TargetHold::neutral() {
  give_back_slot();
  if (admitted_) state_->breaker.on_neutral(probe_);
  admitted_ = false;
}

void TargetHold::reset() { neutral(); }

namespace {

std::mutex registry_mu;
std::map<std::string, std::shared_ptr<TargetState>>& registry() {
  static std::map<std::string, std::shared_ptr<TargetState>> r;
  return r;
}

// Identity: a changed base URL or provider type is a different upstream with its own health.
std::string identity(const config::ProviderConfig* provider, const config::ModelTarget& target) {
  std::string id = target.provider + "/" + target.model;
  if (provider) id += std::string("\x1f") + config::to_string(provider->type) + "\x1f" + provider->base_url;
  return id;
}

}  // namespace

std::shared_ptr<TargetState> target_state(const config::ProviderConfig* provider, const config::ModelTarget& target) {
  std::string id = identity(provider, target);
  std::lock_guard lock(registry_mu);
  auto& slot = registry()[id];
  if (!slot) {
    slot = std::make_shared<TargetState>();
    slot->key = target.provider + "/" + target.model;
  }
  return slot;
}

std::string breakers_json(const config::Config& config) {
  auto now = Clock::now();
  const auto& cfg = config.routing.circuit_breaker;
  std::string out = "{\"targets\":[";
  std::set<std::string> seen;
  bool first = true;
  for (const auto& [alias, route] : config.models) {
    for (const auto& t : route.targets) {
      const config::ProviderConfig* provider = config.provider(t.provider);
      if (!seen.insert(identity(provider, t)).second) continue;
      auto st = target_state(provider, t);
      if (!first) out += ",";
      first = false;
      out += "{\"target\":" + json_string(st->key) + ",\"alias\":" + json_string(alias) +
             ",\"breaker\":" + st->breaker.to_json(now, cfg) +
             ",\"in_flight\":" + std::to_string(st->in_flight.load()) +
             ",\"max_concurrency\":" + std::to_string(t.max_concurrency) +
             ",\"attempts\":" + std::to_string(st->attempts.load()) +
             ",\"failures\":" + std::to_string(st->failures.load()) + "}";
    }
  }
  return out + "]}";
}

}  // namespace warden::router
