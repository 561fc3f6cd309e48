// record_request / record_attempt move the series the /metrics page shows.
#include <catch2/catch.hpp>
#include <string>

#include "warden/config/config.hpp"
#include "warden/policy/request_context.hpp"
#include "warden/providers/provider.hpp"
#include "warden/telemetry/metrics/registry.hpp"
#include "warden/telemetry/request_telemetry.hpp"

using namespace warden;

namespace {

std::shared_ptr<const config::Config> test_config() {
  auto loaded = config::load_config_text(R"(
providers:
  up: {type: openai, base_url: "http://127.0.0.1:9"}
models:
  fast: {targets: [{provider: up, model: m-flash}]}
)",
                                         "test.yaml");
  REQUIRE(loaded.ok());
  return loaded.config;
}

// The value of one rendered sample line (name + exact label text), or -1 when absent.
double sample(const std::string& text, const std::string& series) {
  const auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

}  // namespace

TEST_CASE("record_request: requests, tokens, cost, latency and GenAI histograms") {
  auto& reg = telemetry::Registry::global();
  policy::RequestContext ctx;
  ctx.config = test_config();
  ctx.alias = "fast";
  ctx.request.model = "fast";
  ctx.caller.team = "team-rt";
  ctx.target = "up/m-flash";
  ctx.status = 200;
  ctx.started = std::chrono::steady_clock::now() - std::chrono::milliseconds(30);
  ctx.first_token_at = ctx.started + std::chrono::milliseconds(10);
  ctx.usage.present = true;
  ctx.usage.prompt_tokens = 100;
  ctx.usage.cache_hit_tokens = 64;
  ctx.usage.completion_tokens = 20;
  ctx.usage.reasoning_tokens = 5;
  ctx.cost_usd = 0.125;
  ctx.decisions["dlp.email.redact"] = 2;
  telemetry::record_request(ctx);
  telemetry::record_request(ctx);

  const std::string text = reg.render_prometheus();
  const std::string l = R"(alias="fast",team="team-rt",target="up/m-flash")";
  CHECK(sample(text, "warden_requests_total{" + l + R"(,status="200"})") == 2);
  CHECK(sample(text, "warden_tokens_total{" + l + R"(,type="prompt"})") == 200);
  CHECK(sample(text, "warden_tokens_total{" + l + R"(,type="cache_hit"})") == 128);
  CHECK(sample(text, "warden_tokens_total{" + l + R"(,type="completion"})") == 40);
  CHECK(sample(text, "warden_tokens_total{" + l + R"(,type="reasoning"})") == 10);
  CHECK(sample(text, "warden_cost_usd_total{" + l + "}") == Approx(0.25));
  CHECK(sample(text, R"(warden_request_duration_seconds_count{alias="fast",target="up/m-flash"})") == 2);
  // 30 ms is above the 25 ms bucket and within 50 ms.
  CHECK(sample(text, R"(warden_request_duration_seconds_bucket{alias="fast",target="up/m-flash",le="0.025"})") == 0);
  CHECK(sample(text, R"(warden_request_duration_seconds_bucket{alias="fast",target="up/m-flash",le="0.05"})") == 2);
  CHECK(sample(text, R"(warden_time_to_first_token_seconds_bucket{alias="fast",target="up/m-flash",le="0.01"})") == 2);
  CHECK(sample(text, R"(warden_dlp_hits_total{type="email",action="redact"})") == 4);
  const std::string g =
      R"(gen_ai_operation_name="chat",gen_ai_provider_name="up",gen_ai_request_model="fast",gen_ai_response_model="m-flash")";
  CHECK(sample(text, "gen_ai_client_token_usage_sum{" + g + R"(,gen_ai_token_type="input"})") == 200);
  CHECK(sample(text, "gen_ai_client_token_usage_sum{" + g + R"(,gen_ai_token_type="output"})") == 40);
  CHECK(sample(text, "gen_ai_client_operation_duration_count{" + g + "}") == 2);
  CHECK(sample(text, "gen_ai_client_operation_time_to_first_chunk_count{" + g + "}") == 2);
}

TEST_CASE("record_request: an alias nobody configured is one label value; rejections are counted") {
  policy::RequestContext ctx;
  ctx.config = test_config();
  ctx.alias = "no-such-model-x1";
  ctx.request.model = ctx.alias;
  ctx.caller.team = "team-rej";
  ctx.status = 429;
  telemetry::record_request(ctx, "rate_limit_exceeded");
  const std::string text = telemetry::Registry::global().render_prometheus();
  CHECK(text.find("no-such-model-x1") == std::string::npos);
  CHECK(sample(text, R"x(warden_requests_total{alias="(unknown)",team="team-rej",target="",status="429"})x") == 1);
  CHECK(sample(text, R"(warden_rejections_total{reason="rate_limit",team="team-rej"})") == 1);
}

TEST_CASE("record_attempt: retries, fallbacks and upstream errors") {
  policy::RequestContext ctx;
  ctx.config = test_config();
  ctx.alias = "fast";
  providers::Outcome failed;
  failed.ok = false;
  failed.upstream_status = 503;
  failed.error.code = "upstream_unavailable";
  const auto t = std::chrono::steady_clock::now();
  ctx.attempts = 1;
  telemetry::record_attempt(ctx, "upA/m1", 1, t, failed);
  ctx.attempts = 2;
  telemetry::record_attempt(ctx, "upA/m1", 2, t, failed);  // retry on the same target
  ctx.attempts = 3;
  providers::Outcome ok;
  ok.ok = true;
  telemetry::record_attempt(ctx, "upB/m2", 1, t, ok);  // first attempt elsewhere: fallback
  const std::string text = telemetry::Registry::global().render_prometheus();
  CHECK(sample(text, R"(warden_retries_total{target="upA/m1"})") == 1);
  CHECK(sample(text, R"(warden_fallbacks_total{alias="fast",target="upB/m2"})") == 1);
  CHECK(sample(text, R"(warden_upstream_errors_total{target="upA/m1",code="upstream_unavailable",status="503"})") == 2);
  CHECK(sample(text, R"(warden_upstream_attempts_total{target="upB/m2",result="ok"})") == 1);
}

TEST_CASE("active streams gauge goes up and back down") {
  auto value = [] {
    return sample(telemetry::Registry::global().render_prometheus(), "warden_active_streams");
  };
  {
    telemetry::ActiveStream a(true), b(true), c(false);
    CHECK(value() == 2);
  }
  CHECK(value() == 0);
}
