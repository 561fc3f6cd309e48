#include <catch2/catch.hpp>

#include <string>
#include <thread>
#include <vector>

#include "warden/telemetry/metrics/registry.hpp"

using warden::telemetry::Registry;

namespace {
bool contains(const std::string& text, const std::string& needle) { return text.find(needle) != std::string::npos; }
}  // namespace

TEST_CASE("metrics: counters with labels render in Prometheus text format") {
  Registry r;
  r.counter("warden_requests_total", "Requests.", {{"alias", "fast"}, {"status", "200"}}).inc();
  r.counter("warden_requests_total", "Requests.", {{"alias", "fast"}, {"status", "200"}}).inc(2);
  r.counter("warden_requests_total", "Requests.", {{"alias", "slow\"x"}, {"status", "500"}}).inc();
  std::string text = r.render_prometheus();
  CHECK(contains(text, "# TYPE warden_requests_total counter\n"));
  CHECK(contains(text, "warden_requests_total{alias=\"fast\",status=\"200\"} 3\n"));
  CHECK(contains(text, "warden_requests_total{alias=\"slow\\\"x\",status=\"500\"} 1\n"));
}

TEST_CASE("metrics: histogram buckets are cumulative with le semantics and dotted names are sanitized") {
  Registry r;
  auto& h = r.histogram("gen_ai.client.token.usage", "Tokens.", {{"gen_ai.token.type", "input"}}, {1, 10, 100});
  h.observe(1);    // le=1
  h.observe(5);    // le=10
  h.observe(500);  // +Inf only
  std::string text = r.render_prometheus();
  CHECK(contains(text, "# TYPE gen_ai_client_token_usage histogram\n"));
  CHECK(contains(text, "gen_ai_client_token_usage_bucket{gen_ai_token_type=\"input\",le=\"1\"} 1\n"));
  CHECK(contains(text, "gen_ai_client_token_usage_bucket{gen_ai_token_type=\"input\",le=\"10\"} 2\n"));
  CHECK(contains(text, "gen_ai_client_token_usage_bucket{gen_ai_token_type=\"input\",le=\"100\"} 2\n"));
  CHECK(contains(text, "gen_ai_client_token_usage_bucket{gen_ai_token_type=\"input\",le=\"+Inf\"} 3\n"));
  CHECK(contains(text, "gen_ai_client_token_usage_sum{gen_ai_token_type=\"input\"} 506\n"));
  CHECK(contains(text, "gen_ai_client_token_usage_count{gen_ai_token_type=\"input\"} 3\n"));
}

TEST_CASE("metrics: concurrent increments from many threads are all counted") {
  Registry r;
  constexpr int kThreads = 8, kPerThread = 20000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&r, t] {
      auto& c = r.counter("c_total", "c", {{"shard", std::to_string(t % 2)}});
      auto& g = r.gauge("g", "g");
      for (int i = 0; i < kPerThread; ++i) {
        c.inc();
        g.add(0.5);
      }
    });
  }
  for (auto& t : threads) t.join();
  double total = r.counter("c_total", "c", {{"shard", "0"}}).value() + r.counter("c_total", "c", {{"shard", "1"}}).value();
  CHECK(total == kThreads * kPerThread);
  CHECK(r.gauge("g", "g").value() == kThreads * kPerThread * 0.5);
}
