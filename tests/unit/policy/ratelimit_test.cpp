#include <atomic>
#include <thread>

#include "policy_test_support.hpp"
#include "warden/policy/auth/auth_filter.hpp"
#include "warden/policy/ratelimit/rate_limiter.hpp"
#include "warden/policy/ratelimit/ratelimit_filter.hpp"
#include "warden/policy/runtime.hpp"

using namespace warden;
using namespace policy_test;

namespace {

std::string header(const policy::RequestContext& ctx, const std::string& name) {
  for (const auto& [k, v] : ctx.response_headers)
    if (k == name) return v;
  return "";
}

policy::RequestContext authed(std::shared_ptr<const config::Config> cfg, const std::string& key_id = "k1") {
  auto ctx = make_ctx(cfg, "", "fast");
  ctx.caller.team = "t";
  ctx.caller.key_id = key_id;
  return ctx;
}

}  // namespace

TEST_CASE("ratelimit: rpm refuses with 429, retry-after and x-ratelimit headers", "[ratelimit]") {
  auto dir = scratch_dir("rl");
  auto cfg = load(base_yaml(dir, "teams:\n  t: {rate_limits: {rpm: 2}}\n"));
  for (int i = 0; i < 2; ++i) {
    policy::RateLimitFilter f;
    auto ctx = authed(cfg);
    REQUIRE(run_request(f, ctx) == policy::FilterStatus::Continue);
    CHECK(header(ctx, "x-ratelimit-limit-requests") == "2");
    CHECK(header(ctx, "x-ratelimit-remaining-requests") == std::to_string(1 - i));
    f.on_complete(ctx);
  }
  policy::RateLimitFilter f;
  auto ctx = authed(cfg);
  REQUIRE(run_request(f, ctx) == policy::FilterStatus::Reply);
  CHECK(ctx.reply->http_status == 429);
  CHECK(ctx.reply->code == "rate_limit_exceeded");
  int retry = std::stoi(header(ctx, "retry-after"));
  CHECK(retry >= 1);
  CHECK(retry <= 30);
  CHECK(header(ctx, "x-ratelimit-remaining-requests") == "0");
}

TEST_CASE("ratelimit: concurrency slot is held until the request ends", "[ratelimit]") {
  auto dir = scratch_dir("rl");
  auto cfg = load(base_yaml(dir, "teams:\n  t: {rate_limits: {concurrency: 1}}\n"));
  auto first = std::make_unique<policy::RateLimitFilter>();
  auto c1 = authed(cfg);
  REQUIRE(run_request(*first, c1) == policy::FilterStatus::Continue);
  {
    policy::RateLimitFilter second;
    auto c2 = authed(cfg);
    REQUIRE(run_request(second, c2) == policy::FilterStatus::Reply);
    CHECK(c2.reply->code == "rate_limit_exceeded");
  }
  first.reset();  // destroyed without on_complete (e.g. client went away): slot freed
  policy::RateLimitFilter third;
  auto c3 = authed(cfg);
  CHECK(run_request(third, c3) == policy::FilterStatus::Continue);
}

TEST_CASE("ratelimit: per-key limits are separate buckets; team limit spans keys", "[ratelimit]") {
  auto dir = scratch_dir("rl");
  auto cfg = load(base_yaml(dir, "teams:\n  t: {rate_limits: {rpm: 3}, key_rate_limits: {rpm: 2}}\n"));
  auto go = [&](const std::string& key) {
    policy::RateLimitFilter f;
    auto ctx = authed(cfg, key);
    auto st = run_request(f, ctx);
    if (st == policy::FilterStatus::Continue) f.on_complete(ctx);
    return st;
  };
  CHECK(go("a") == policy::FilterStatus::Continue);
  CHECK(go("a") == policy::FilterStatus::Continue);
  CHECK(go("a") == policy::FilterStatus::Reply);     // key a's own limit
  CHECK(go("b") == policy::FilterStatus::Continue);  // team has 1 left
  CHECK(go("b") == policy::FilterStatus::Reply);     // team exhausted
}

TEST_CASE("ratelimit: tpm counts estimated tokens and settles real usage", "[ratelimit]") {
  policy::RateLimiter limiter;
  auto b = limiter.bucket("team:x");
  config::RateLimits l;
  l.tpm = 1000;
  auto t0 = policy::Clock::now();
  auto d1 = policy::RateLimiter::admit(*b, l, 600, t0);
  CHECK(d1.allowed);
  auto d2 = policy::RateLimiter::admit(*b, l, 600, t0);
  CHECK_FALSE(d2.allowed);
  CHECK(d2.limit == "tpm");
  CHECK(d2.retry_after_s == Approx(12.0).epsilon(0.01));  // 200 tokens at 1000/min
  // The first request really used only 100 tokens: 500 come back.
  policy::RateLimiter::settle(*b, l, 600, 100);
  policy::RateLimiter::release(*b);
  auto d3 = policy::RateLimiter::admit(*b, l, 600, t0);
  CHECK(d3.allowed);
}

TEST_CASE("ratelimit: counters survive a config reload that keeps the team", "[ratelimit]") {
  auto dir = scratch_dir("rl");
  auto cfg1 = load(base_yaml(dir, "teams:\n  t: {rate_limits: {rpm: 1}}\n"));
  {
    policy::RateLimitFilter f;
    auto ctx = authed(cfg1);
    REQUIRE(run_request(f, ctx) == policy::FilterStatus::Continue);
    f.on_complete(ctx);
  }
  // A new snapshot (as after SIGHUP) with the same team: the used request still counts.
  auto cfg2 = load(base_yaml(dir, "teams:\n  t: {rate_limits: {rpm: 1}}\n"));
  REQUIRE(cfg2.get() != cfg1.get());
  policy::RateLimitFilter f;
  auto ctx = authed(cfg2);
  CHECK(run_request(f, ctx) == policy::FilterStatus::Reply);
}

TEST_CASE("ratelimit: concurrent admissions never exceed the concurrency limit", "[ratelimit]") {
  policy::RateLimiter limiter;
  auto b = limiter.bucket("team:c");
  config::RateLimits l;
  l.concurrency = 5;
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i)
    threads.emplace_back([&] {
      for (int j = 0; j < 200; ++j)
        if (policy::RateLimiter::admit(*b, l, 0).allowed) admitted.fetch_add(1);
    });
  for (auto& t : threads) t.join();
  CHECK(admitted.load() == 5);  // nobody released
  CHECK(b->in_flight.load() == 5);
}
