#include <catch2/catch.hpp>

#include "warden/router/retry.hpp"

using namespace std::chrono_literals;
using warden::providers::Outcome;
using warden::router::classify;
using warden::router::Verdict;

namespace {
Outcome status(int s, bool retryable = false) {
  Outcome o;
  o.upstream_status = s;
  o.retryable = retryable;
  return o;
}
}  // namespace

TEST_CASE("only what can succeed is retried", "[router][retry]") {
  for (int s : {429, 500, 502, 503, 504, 529}) CHECK(classify(status(s)) == Verdict::Retry);
  for (int s : {400, 404, 413, 422}) CHECK(classify(status(s)) == Verdict::Stop);
  for (int s : {401, 402, 403}) CHECK(classify(status(s)) == Verdict::NextTarget);
  CHECK(classify(status(0, true)) == Verdict::Retry);        // connect error / timeout before first byte
  CHECK(classify(status(0, false)) == Verdict::NextTarget);  // e.g. idle timeout mid-answer
  CHECK(warden::router::counts_as_failure(status(503)));
  CHECK(warden::router::counts_as_failure(status(0)));
  CHECK_FALSE(warden::router::counts_as_failure(status(400)));
  CHECK_FALSE(warden::router::counts_as_failure(status(402)));
}

TEST_CASE("full-jitter backoff stays under the exponential ceiling", "[router][retry]") {
  warden::config::RetryConfig cfg;
  cfg.base_ms = 100;
  cfg.max_ms = 1000;
  std::mt19937_64 rng(42);
  int64_t max_seen[6] = {0};
  for (int i = 0; i < 2000; ++i) {
    for (int r = 1; r <= 5; ++r) {
      auto d = warden::router::backoff_delay(cfg, r, std::nullopt, rng).count();
      CHECK(d >= 0);
      max_seen[r] = std::max(max_seen[r], d);
    }
  }
  CHECK(max_seen[1] <= 100);
  CHECK(max_seen[2] <= 200);
  CHECK(max_seen[3] <= 400);
  CHECK(max_seen[5] <= 1000);
  CHECK(max_seen[5] > 900);  // jitter spans the range
  CHECK(max_seen[1] > 90);
}

TEST_CASE("retry-after is honoured and capped", "[router][retry]") {
  warden::config::RetryConfig cfg;
  cfg.retry_after_max_ms = 2000;
  std::mt19937_64 rng(1);
  CHECK(warden::router::backoff_delay(cfg, 1, 1500ms, rng) == 1500ms);
  CHECK(warden::router::backoff_delay(cfg, 1, 60000ms, rng) == 2000ms);
}
