#include <catch2/catch.hpp>

#include "warden/router/circuit_breaker.hpp"

using namespace std::chrono_literals;
using warden::config::CircuitBreakerConfig;
using warden::router::BreakerState;
using warden::router::CircuitBreaker;
using warden::router::Clock;

namespace {
CircuitBreakerConfig cfg(int failures = 3, int64_t window_s = 10, int64_t open_s = 5, int half_open = 2) {
  CircuitBreakerConfig c;
  c.failures = failures;
  c.window_s = window_s;
  c.open_s = open_s;
  c.half_open_requests = half_open;
  return c;
}
}  // namespace

TEST_CASE("failures inside the window open the breaker", "[router][breaker]") {
  CircuitBreaker b;
  auto c = cfg();
  auto t0 = Clock::time_point{} + 1000s;
  CHECK(b.allow(t0, c));
  b.on_failure(t0, c);
  b.on_failure(t0 + 1s, c);
  CHECK(b.state(t0 + 1s, c) == BreakerState::Closed);
  b.on_failure(t0 + 2s, c);
  CHECK(b.state(t0 + 2s, c) == BreakerState::Open);
  CHECK_FALSE(b.allow(t0 + 3s, c));
  CHECK(b.to_json(t0 + 3s, c).find("\"state\":\"open\"") != std::string::npos);
}

TEST_CASE("failures spread wider than the window do not open it", "[router][breaker]") {
  CircuitBreaker b;
  auto c = cfg(3, 10);
  auto t0 = Clock::time_point{} + 1000s;
  b.on_failure(t0, c);
  b.on_failure(t0 + 6s, c);
  b.on_failure(t0 + 11s, c);  // the first one has left the window
  CHECK(b.state(t0 + 11s, c) == BreakerState::Closed);
  b.on_failure(t0 + 12s, c);
  CHECK(b.state(t0 + 12s, c) == BreakerState::Open);
}

TEST_CASE("half-open admits limited probes; successes close, a failure reopens", "[router][breaker]") {
  CircuitBreaker b;
  auto c = cfg(1, 10, 5, 2);
  auto t0 = Clock::time_point{} + 1000s;
  b.on_failure(t0, c);
  CHECK_FALSE(b.allow(t0 + 4s, c));
  // cool-down over: two probes, the third waits
  CHECK(b.allow(t0 + 5s, c));
  CHECK(b.state(t0 + 5s, c) == BreakerState::HalfOpen);
  CHECK(b.allow(t0 + 5s, c));
  CHECK_FALSE(b.allow(t0 + 5s, c));
  b.on_success(t0 + 6s, c);
  CHECK(b.state(t0 + 6s, c) == BreakerState::HalfOpen);
  b.on_success(t0 + 6s, c);
  CHECK(b.state(t0 + 6s, c) == BreakerState::Closed);

  b.on_failure(t0 + 7s, c);
  CHECK(b.state(t0 + 7s, c) == BreakerState::Open);
  CHECK(b.allow(t0 + 12s, c));
  b.on_failure(t0 + 12s, c);  // the probe failed: open again for a full cool-down
  CHECK(b.state(t0 + 12s, c) == BreakerState::Open);
  CHECK_FALSE(b.allow(t0 + 16s, c));
  CHECK(b.allow(t0 + 17s, c));
}

TEST_CASE("a neutral outcome frees the probe slot without closing", "[router][breaker]") {
  CircuitBreaker b;
  auto c = cfg(1, 10, 1, 1);
  auto t0 = Clock::time_point{} + 1000s;
  b.on_failure(t0, c);
  CHECK(b.allow(t0 + 1s, c));
  CHECK_FALSE(b.allow(t0 + 1s, c));
  b.on_neutral();
  CHECK(b.state(t0 + 1s, c) == BreakerState::HalfOpen);
  CHECK(b.allow(t0 + 1s, c));
}

TEST_CASE("target state survives a reload when the target is unchanged", "[router][breaker]") {
  warden::config::ProviderConfig p;
  p.name = "up";
  p.base_url = "http://127.0.0.1:1";
  warden::config::ModelTarget t;
  t.provider = "up";
  t.model = "m-survive";
  auto a = warden::router::target_state(&p, t);
  warden::config::ProviderConfig same = p;  // a new snapshot's copy
  CHECK(warden::router::target_state(&same, t) == a);
  warden::config::ProviderConfig moved = p;
  moved.base_url = "http://127.0.0.1:2";
  CHECK(warden::router::target_state(&moved, t) != a);
}

TEST_CASE("concurrency cap", "[router][breaker]") {
  warden::router::TargetState st;
  CHECK(st.try_acquire(2));
  CHECK(st.try_acquire(2));
  CHECK_FALSE(st.try_acquire(2));
  st.release();
  CHECK(st.try_acquire(2));
  CHECK(st.try_acquire(0));  // 0 = no cap
}

TEST_CASE("a probe ticket frees only its own half-open period's slot", "[router][breaker]") {
  CircuitBreaker b;
  auto c = cfg(1, 10, 5, 1);
  auto t0 = Clock::time_point{} + 1000s;
  b.on_failure(t0, c);
  uint64_t first = 0;
  CHECK(b.allow(t0 + 5s, c, &first));  // half-open: the one probe
  CHECK(first != 0);
  b.on_failure(t0 + 5s, c);  // another attempt (admitted earlier) fails: open again
  uint64_t second = 0;
  CHECK(b.allow(t0 + 10s, c, &second));  // the next half-open period's probe
  CHECK(second != first);
  b.on_neutral(first);  // the stale probe settling late must not free the new one's slot
  CHECK_FALSE(b.allow(t0 + 10s, c));
  b.on_neutral(second);
  CHECK(b.allow(t0 + 10s, c));
}

TEST_CASE("a target hold gives its slot and probe back however the attempt ends", "[router][breaker]") {
  auto st = std::make_shared<warden::router::TargetState>();
  auto c = cfg(1, 10, 5, 1);
  using Admit = warden::router::TargetHold::Admit;
  {
    warden::router::TargetHold hold(st, c);
    CHECK(hold.admit(Clock::now(), 1) == Admit::Ok);
    CHECK(st->in_flight.load() == 1);
    warden::router::TargetHold other(st, c);
    CHECK(other.admit(Clock::now(), 1) == Admit::Busy);
    // Leaves scope without an outcome: what a cancelled coroutine's unwinding does.
  }
  CHECK(st->in_flight.load() == 0);

  // Half-open: the probe taken by a hold that is destroyed unsettled is freed.
  st->breaker.on_failure(Clock::now() - 6s, c);
  {
    warden::router::TargetHold hold(st, c);
    CHECK(hold.admit(Clock::now(), 0) == Admit::Ok);
    warden::router::TargetHold second(st, c);
    CHECK(second.admit(Clock::now(), 0) == Admit::BreakerOpen);  // one probe at a time
  }
  warden::router::TargetHold after(st, c);
  CHECK(after.admit(Clock::now(), 0) == Admit::Ok);
  after.success(Clock::now());
  CHECK(st->breaker.state(Clock::now(), c) == BreakerState::Closed);
  CHECK(st->in_flight.load() == 0);
}
