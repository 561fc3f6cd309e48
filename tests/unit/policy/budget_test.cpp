#include <thread>

#include "policy_test_support.hpp"
#include "warden/policy/budget/budget_filter.hpp"
#include "warden/policy/budget/budget_ledger.hpp"
#include "warden/policy/budget/pricing.hpp"

using namespace warden;
using namespace policy_test;

TEST_CASE("pricing: cache hit / miss / output and off-peak windows", "[budget]") {
  auto dir = scratch_dir("price");
  auto cfg = load(base_yaml(dir, R"(
pricing:
  m-fast: {input_cache_hit: 0.1, input_cache_miss: 1.0, output: 2.0}
  m-smart:
    input_cache_hit: 0.2
    input_cache_miss: 2.0
    output: 8.0
    off_peak: {input_cache_hit: 0.1, input_cache_miss: 1.0, output: 4.0}
    peak_windows: ["00:30-16:30"]
)"));
  api::Usage u;
  u.present = true;
  u.prompt_tokens = 1'000'000;
  u.cache_hit_tokens = 400'000;
  u.completion_tokens = 500'000;
  // 0.4M*0.1 + 0.6M*1.0 + 0.5M*2.0 per 1M
  CHECK(policy::cost_usd(*cfg, "up/m-fast", u) == Approx(0.04 + 0.6 + 1.0));
  using namespace std::chrono;
  auto day = sys_days{year{2026} / 11 / 23};
  CHECK(policy::cost_usd(*cfg, "up/m-smart", u, day + hours(10)) == Approx(0.08 + 1.2 + 4.0));
  CHECK(policy::cost_usd(*cfg, "up/m-smart", u, day + hours(20)) == Approx(0.04 + 0.6 + 2.0));
  CHECK(policy::cost_usd(*cfg, "up/unpriced", u) == 0);
  CHECK(policy::in_window("22:00-02:00", 23 * 60));
  CHECK(policy::in_window("22:00-02:00", 60));
  CHECK_FALSE(policy::in_window("22:00-02:00", 12 * 60));
  // Worst case takes the dearer of peak and off-peak and full-price input.
  CHECK(policy::worst_case_usd(*cfg, "smart", 1'000'000, 1'000'000) == Approx(2.0 + 8.0));
}

TEST_CASE("budget ledger: concurrent reservations never exceed a hard limit", "[budget]") {
  auto dir = scratch_dir("ledger");
  policy::BudgetLedger ledger(dir);
  policy::BudgetLimits limits{0, 1.0, true};  // $1 per month
  std::atomic<int> granted{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 64; ++i)
    threads.emplace_back([&] {
      auto r = ledger.reserve("team:x", limits, policy::Spend{0, 0.3});
      if (auto* res = std::get_if<policy::Reservation>(&r)) {
        granted.fetch_add(1);
        ledger.settle(*res, policy::Spend{10, 0.25});
      }
    });
  for (auto& t : threads) t.join();
  // 0.3 worst case each: at most 3 fit in $1 at once; settled at 0.25 they free room, so
  // more may follow — but committed spend never passes the limit.
  auto month = policy::BudgetLedger::month_of(std::chrono::system_clock::now());
  auto spent = ledger.committed("team:x", month);
  CHECK(granted.load() >= 3);
  CHECK(spent.usd <= 1.0 + 1e-9);
  CHECK(spent.usd == Approx(0.25 * granted.load()));
  CHECK(ledger.reserved("team:x", month).usd == Approx(0).margin(1e-9));
}

TEST_CASE("budget ledger: spend is durable across instances (restart)", "[budget]") {
  auto dir = scratch_dir("ledger");
  auto now = std::chrono::system_clock::now();
  auto day = policy::BudgetLedger::day_of(now);
  {
    policy::BudgetLedger ledger(dir);
    auto r = ledger.reserve("team:y", {100, 0, true}, {60, 0});
    REQUIRE(std::holds_alternative<policy::Reservation>(r));
    ledger.settle(std::get<policy::Reservation>(r), {50, 0.01});
  }
  policy::BudgetLedger again(dir);
  CHECK(again.committed("team:y", day).tokens == 50);
  auto refused = again.reserve("team:y", {100, 0, true}, {60, 0});
  REQUIRE(std::holds_alternative<policy::BudgetRefusal>(refused));
  CHECK(std::get<policy::BudgetRefusal>(refused).dimension == "tokens_per_day");
  auto fits = again.reserve("team:y", {100, 0, true}, {50, 0});
  CHECK(std::holds_alternative<policy::Reservation>(fits));
  // Soft limits never refuse.
  auto soft = again.reserve("team:y", {100, 0, false}, {500, 0});
  CHECK(std::holds_alternative<policy::Reservation>(soft));
}

TEST_CASE("budget filter: reserve worst case, 402 when it does not fit, settle real usage", "[budget]") {
  auto dir = scratch_dir("bf");
  auto cfg = load(base_yaml(dir, R"(
pricing:
  m-fast: {input_cache_hit: 0, input_cache_miss: 0, output: 0}
teams:
  t: {budget: {tokens_per_day: 1000, mode: hard, alert_at: [0.5]}}
)"));
  auto mk = [&](int64_t max_tokens) {
    auto ctx = make_ctx(cfg, "", "fast");
    ctx.caller.team = "t";
    ctx.caller.key_id = "k";
    ctx.request.max_tokens = max_tokens;
    return ctx;
  };
  // Prompt "hello there": 11 bytes + 8 overhead = 19 upper bound; + 400 max tokens = 419.
  policy::BudgetFilter a, b, c;
  auto ca = mk(400), cb = mk(400), cc = mk(400);
  REQUIRE(run_request(a, ca) == policy::FilterStatus::Continue);
  REQUIRE(run_request(b, cb) == policy::FilterStatus::Continue);
  REQUIRE(run_request(c, cc) == policy::FilterStatus::Reply);  // 3 × 419 > 1000
  CHECK(cc.reply->http_status == 402);
  CHECK(cc.reply->code == "budget_exceeded");
  // a finishes using 520 tokens: crosses the 50% alert
  ca.status = 200;
  ca.target = "up/m-fast";
  ca.usage.present = true;
  ca.usage.prompt_tokens = 20;
  ca.usage.completion_tokens = 500;
  a.on_complete(ca);
  CHECK(ca.decisions["budget.alert"] == 1);
  // b fails upstream: its reservation is released, nothing charged
  cb.status = 502;
  b.on_complete(cb);
  policy::BudgetFilter d;
  auto cd = mk(400);
  CHECK(run_request(d, cd) == policy::FilterStatus::Continue);  // 520 + 419 <= 1000
  policy::BudgetFilter e;
  auto ce = mk(400);
  CHECK(run_request(e, ce) == policy::FilterStatus::Reply);  // 520 + 419 + 419 > 1000
}

TEST_CASE("budget filter: a missing max_tokens is bounded before reserving", "[budget]") {
  auto dir = scratch_dir("bf");
  auto cfg = load(base_yaml(dir, "teams:\n  t: {max_tokens: 300, budget: {tokens_per_day: 100000}}\n"));
  policy::BudgetFilter f;
  auto ctx = make_ctx(cfg, "", "fast");
  ctx.caller.team = "t";
  REQUIRE(run_request(f, ctx) == policy::FilterStatus::Continue);
  REQUIRE(ctx.request.max_tokens);
  CHECK(*ctx.request.max_tokens == 300);
}
