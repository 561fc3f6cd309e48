// Telemetry's admin endpoints: GET /metrics (Prometheus text), GET /admin/usage (ledger
// report), GET /admin/routes (aliases → targets of the pinned config).
#include <chrono>

#include "json_text.hpp"
#include "warden/common/url_decode.hpp"
#include "warden/config/config.hpp"
#include "warden/engine/engine.hpp"
#include "warden/policy/admin/team_budgets.hpp"
#include "warden/providers/local_factory.hpp"
#include "warden/providers/registry.hpp"
#include "warden/router/circuit_breaker.hpp"
#include "warden/server/endpoint_table.hpp"
#include "warden/telemetry/metrics/registry.hpp"
#include "warden/telemetry/telemetry.hpp"
#include "warden/telemetry/usage/usage_ledger.hpp"

namespace warden::telemetry {

namespace asio = boost::asio;

namespace {

// Gauges read at scrape time from state other modules own: breaker state per target and
// the local engines' scheduler/KV stats.
void refresh_scrape_gauges(const std::shared_ptr<const config::Config>& cfg) {
  if (!cfg) return;
  Registry& r = Registry::global();
  const auto now = router::Clock::now();
  for (const auto& [alias, route] : cfg->models) {
    for (const auto& target : route.targets) {
      auto p = cfg->providers.find(target.provider);
      auto state = router::target_state(p == cfg->providers.end() ? nullptr : &p->second, target);
      const auto bs = state->breaker.state(now, cfg->routing.circuit_breaker);
      const std::string label = target.provider + "/" + target.model;
      r.gauge("warden_breaker_state", "Circuit breaker state per target: 0 closed, 1 open, 2 half-open.",
              {{"target", label}})
          .set(bs == router::BreakerState::Closed ? 0 : bs == router::BreakerState::Open ? 1 : 2);
      r.gauge("warden_target_in_flight", "Upstream attempts in flight per target.", {{"target", label}})
          .set(static_cast<double>(state->in_flight.load(std::memory_order_relaxed)));
    }
  }
  // Budget use per team and dimension, from the same computation as GET /admin/teams.
  // Read here, at scrape time, so the request path never touches these gauges.
  for (const auto& s : policy::admin::team_budgets(*cfg).teams) {
    for (const auto& d : s.dimensions) {
      const Labels l = {{"team", s.team->name}, {"dimension", d.name}};
      r.gauge("warden_budget_used_ratio",
              "Budget used this period (committed spend / limit), by team and dimension (tokens_per_day, usd_per_month).",
              l)
          .set(d.used_ratio);
      // Soft budgets: the crossing counter exists at 0 from the first scrape.
      if (s.team->budget.mode == config::BudgetMode::Soft)
        r.counter("warden_budget_soft_exceeded_total",
                  "Soft budgets crossed (the request was served; one warn log line each), by team and dimension.", l);
    }
  }
  for (const auto& [name, pc] : cfg->providers) {
    if (pc.type != config::ProviderType::Local) continue;
    auto provider = providers::provider_for(cfg, name);
    auto engine = provider ? providers::local_engine_of(*provider) : nullptr;
    if (!engine) continue;
    const engine::EngineStats s = engine->stats();
    const Labels l = {{"provider", name}};
    r.gauge("warden_engine_queue_depth", "Sequences waiting in the local engine's queue.", l).set(s.waiting);
    r.gauge("warden_engine_running_sequences", "Sequences running in the local engine.", l).set(s.running);
    r.gauge("warden_engine_kv_blocks_used", "KV cache blocks in use.", l).set(s.kv_blocks_used);
    r.gauge("warden_engine_kv_blocks_total", "KV cache blocks in the pool.", l).set(s.kv_blocks_total);
    r.gauge("warden_engine_prefix_cache_hit_rate", "Prefix cache hit rate (0..1).", l).set(s.prefix_hit_rate);
    r.gauge("warden_engine_prompt_tokens_per_second", "Prefill throughput over the last second.", l)
        .set(s.prompt_tokens_per_s);
    r.gauge("warden_engine_generation_tokens_per_second", "Decode throughput over the last second.", l)
        .set(s.generation_tokens_per_s);
    r.gauge("warden_engine_preemptions", "Sequences preempted since start.", l).set(s.preemptions);
  }
}

asio::awaitable<void> bad_request(server::Exchange& ex, std::string message) {
  std::string body = R"({"error":{"code":"invalid_request","message":)";
  json_text::append_string(body, message);
  body += "}}";
  co_await ex.respond(400, "application/json", std::move(body));
}

asio::awaitable<void> metrics(server::Exchange& ex, std::shared_ptr<const config::Config> cfg) {
  refresh_scrape_gauges(cfg);
  co_await ex.respond(200, "text/plain; version=0.0.4; charset=utf-8", Registry::global().render_prometheus());
}

// GET /admin/usage?by=team|key|model|alias&from=DATE&to=DATE — the same report as
// `warden usage report --format json`. Rows still queued are committed first so the answer
// includes every request that completed before this one.
asio::awaitable<void> usage(server::Exchange& ex, std::shared_ptr<const config::Config> cfg) {
  const std::string by_s = query_param(ex.query(), "by").value_or("team");
  auto by = parse_group_by(by_s);
  if (!by) {
      co_await bad_request(ex, "by must be team, key, model or alias");
      co_return;
    }
  int64_t from_ms = 0, to_ms = INT64_MAX;
  if (auto f = query_param(ex.query(), "from")) {
    auto v = parse_report_time(*f, false);
    if (!v) {
      co_await bad_request(ex, "bad from: use YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or unix ms");
      co_return;
    }
    from_ms = *v;
  }
  if (auto t = query_param(ex.query(), "to")) {
    auto v = parse_report_time(*t, true);
    if (!v) {
      co_await bad_request(ex, "bad to: use YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or unix ms");
      co_return;
    }
    to_ms = *v;
  }
  Runtime* rt = current_runtime();
  const std::string state_dir = rt ? rt->state_dir() : (cfg ? cfg->state_dir : std::string("./var"));
  // Admin traffic is rare; the flush and the query run on this I/O thread (bounded by
  // one ledger batch and an indexed range scan).
  if (rt && rt->ledger()) rt->ledger()->flush();
  auto report = usage_report(state_dir, *by, from_ms, to_ms);
  if (!report) {
    std::string body = R"({"error":{"code":"usage_ledger_error","message":)";
    json_text::append_string(body, report.error().message);
    body += "}}";
    {
      co_await ex.respond(500, "application/json", std::move(body));
      co_return;
    }
  }
  co_await ex.respond(200, "application/json", usage_report_json(*report, *by));
}

// GET /admin/routes: every alias with its targets (provider, model, weight, concurrency
// cap) and fallback chain, from the config this request pinned.
asio::awaitable<void> routes(server::Exchange& ex, std::shared_ptr<const config::Config> cfg) {
  std::string out = R"({"generation":)" + std::to_string(cfg ? cfg->generation : 0) + R"(,"routes":[)";
  bool first = true;
  if (cfg) {
    for (const auto& [alias, route] : cfg->models) {
      if (!first) out += ',';
      first = false;
      out += R"({"alias":)";
      json_text::append_string(out, alias);
      out += R"(,"targets":[)";
      for (size_t i = 0; i < route.targets.size(); ++i) {
        const auto& t = route.targets[i];
        if (i) out += ',';
        out += R"({"provider":)";
        json_text::append_string(out, t.provider);
        out += R"(,"model":)";
        json_text::append_string(out, t.model);
        out += R"(,"target":)";
        json_text::append_string(out, t.provider + "/" + t.model);
        out += R"(,"weight":)" + std::to_string(t.weight);
        out += R"(,"max_concurrency":)" + std::to_string(t.max_concurrency) + '}';
      }
      out += R"(],"fallback":[)";
      for (size_t i = 0; i < route.fallback.size(); ++i) {
        if (i) out += ',';
        json_text::append_string(out, route.fallback[i]);
      }
      out += "]}";
    }
  }
  out += "]}";
  co_await ex.respond(200, "application/json", std::move(out));
}

}  // namespace

void register_admin_endpoints(server::EndpointTable& admin) {
  admin.add("GET", "/metrics", metrics);
  admin.add("GET", "/admin/usage", usage);
  admin.add("GET", "/admin/routes", routes);
}

}  // namespace warden::telemetry
