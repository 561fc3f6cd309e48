// Per-request telemetry: metrics, the usage ledger row and spans, from RequestContext.
#include "warden/telemetry/request_telemetry.hpp"

#include <charconv>
#include <random>
#include <unordered_map>

#include "warden/config/config.hpp"
#include "warden/policy/budget/pricing.hpp"
#include "warden/policy/request_context.hpp"
#include "warden/providers/provider.hpp"
#include "warden/telemetry/events.hpp"
#include "warden/telemetry/metrics/registry.hpp"
#include "warden/telemetry/telemetry.hpp"
#include "warden/telemetry/tracing/otlp_exporter.hpp"
#include "warden/telemetry/tracing/span.hpp"
#include "warden/telemetry/tracing/span_record.hpp"
#include "warden/telemetry/usage/usage_ledger.hpp"

namespace warden::telemetry {

namespace {

using SteadyClock = std::chrono::steady_clock;

std::string_view provider_of(std::string_view target) {
  const auto slash = target.find('/');
  return slash == std::string_view::npos ? target : target.substr(0, slash);
}
std::string_view model_of(std::string_view target) {
  const auto slash = target.find('/');
  return slash == std::string_view::npos ? std::string_view{} : target.substr(slash + 1);
}

// The caller picks the alias text; only configured aliases become label values so a
// client cannot grow the series set without bound.
std::string_view alias_label(const policy::RequestContext& ctx) {
  if (ctx.alias.empty()) return "";
  if (ctx.config && ctx.config->models.count(ctx.alias)) return ctx.alias;
  return "(unknown)";
}

// Transparent hashing so per-thread caches are probed with a reused key buffer (no
// temporary std::string per request).
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
template <class V>
using StringMap = std::unordered_map<std::string, V, StringHash, std::equal_to<>>;

// Series touched by every request with the same (alias, team, target, status): looked up
// once per thread, then only relaxed atomics.
struct RequestCells {
  Counter* requests;
  Histogram* duration;
  Histogram* ttft;
  Counter* tokens_prompt;
  Counter* tokens_completion;
  Counter* tokens_cache_hit;
  Counter* tokens_reasoning;
  Counter* cost;
  Histogram* genai_tokens_input;
  Histogram* genai_tokens_output;
  Histogram* genai_duration;
  Histogram* genai_ttfc;
};

RequestCells* cells_for(std::string_view alias_v, const std::string& team, const std::string& target, int status,
                        std::string_view error_code) {
  thread_local StringMap<std::unique_ptr<RequestCells>> cache;
  thread_local std::string key;
  char status_buf[12];
  const std::string_view status_v(status_buf, std::to_chars(status_buf, status_buf + sizeof status_buf, status).ptr - status_buf);
  key.clear();
  key += alias_v;
  key += '\x1f';
  key += team;
  key += '\x1f';
  key += target;
  key += '\x1f';
  key += status_v;
  key += '\x1f';
  key += error_code;
  auto it = cache.find(std::string_view(key));
  if (it != cache.end()) return it->second.get();

  Registry& r = Registry::global();
  const std::string alias(alias_v);
  auto c = std::make_unique<RequestCells>();
  const std::string status_s(status_v);
  const Labels base = {{"alias", alias}, {"team", team}, {"target", target}};
  Labels with_status = base;
  with_status.emplace_back("status", status_s);
  c->requests = &r.counter("warden_requests_total", "Chat requests completed, by alias, team, target and HTTP status.",
                           with_status);
  c->duration = &r.histogram("warden_request_duration_seconds", "Chat request latency (receipt to last byte).",
                             {{"alias", alias}, {"target", target}});
  c->ttft = &r.histogram("warden_time_to_first_token_seconds", "Receipt to the first answer token.",
                         {{"alias", alias}, {"target", target}});
  auto tok = [&](const char* type) {
    Labels l = base;
    l.emplace_back("type", type);
    return &r.counter("warden_tokens_total", "Tokens by type: prompt (incl. cache hits), completion (incl. reasoning), "
                                             "cache_hit, reasoning.", l);
  };
  c->tokens_prompt = tok("prompt");
  c->tokens_completion = tok("completion");
  c->tokens_cache_hit = tok("cache_hit");
  c->tokens_reasoning = tok("reasoning");
  c->cost = &r.counter("warden_cost_usd_total", "Cost of answered requests in USD (model price table).", base);

  // OTel GenAI client metrics (wire-formats.md §5); exported with '.' → '_'.
  const std::string provider(provider_of(target));
  const std::string model(model_of(target));
  Labels g = {{"gen_ai.operation.name", "chat"}, {"gen_ai.provider.name", provider}, {"gen_ai.request.model", alias},
              {"gen_ai.response.model", model}};
  Labels gi = g, go = g;
  gi.emplace_back("gen_ai.token.type", "input");
  go.emplace_back("gen_ai.token.type", "output");
  c->genai_tokens_input =
      &r.histogram("gen_ai.client.token.usage", "Tokens used per operation.", gi, token_buckets());
  c->genai_tokens_output =
      &r.histogram("gen_ai.client.token.usage", "Tokens used per operation.", go, token_buckets());
  Labels gd = g;
  if (!error_code.empty()) gd.emplace_back("error.type", std::string(error_code));
  c->genai_duration = &r.histogram("gen_ai.client.operation.duration", "GenAI operation duration (s).", gd);
  c->genai_ttfc = &r.histogram("gen_ai.client.operation.time_to_first_chunk",
                               "Time to the first chunk of a GenAI answer (s).", g);
  return cache.emplace(key, std::move(c)).first->second.get();
}

void count_decisions(const policy::RequestContext& ctx) {
  Registry& r = Registry::global();
  for (const auto& [decision, n] : ctx.decisions) {
    if (n <= 0) continue;
    // "dlp.<type>.<action>" → hits by detector type and action.
    if (decision.rfind("dlp.", 0) == 0) {
      const auto dot = decision.rfind('.');
      if (dot > 4) {
        r.counter("warden_dlp_hits_total", "DLP detector matches, by detector type and action.",
                  {{"type", decision.substr(4, dot - 4)}, {"action", decision.substr(dot + 1)}})
            .inc(static_cast<double>(n));
      }
    } else if (decision.rfind("budget.soft_exceeded.", 0) == 0) {
      // Set by the budget filter on the request that crossed a soft limit, per dimension.
      r.counter("warden_budget_soft_exceeded_total",
                "Soft budgets crossed (the request was served; one warn log line each), by team and dimension.",
                {{"team", ctx.caller.team}, {"dimension", decision.substr(21)}})
          .inc(static_cast<double>(n));
    } else if (decision.rfind("guardrails.", 0) == 0) {
      r.counter("warden_guardrail_blocks_total", "Requests or answers stopped by guardrails, by rule kind.",
                {{"rule", decision.substr(11)}})
          .inc(static_cast<double>(n));
    }
    r.counter("warden_policy_decisions_total", "Policy decisions taken, by decision name.", {{"decision", decision}})
        .inc(static_cast<double>(n));
  }
}

void count_rejection(std::string_view error_code, const std::string& team) {
  const char* reason = nullptr;
  if (error_code == "rate_limit_exceeded") reason = "rate_limit";
  else if (error_code == "budget_exceeded") reason = "budget";
  else if (error_code == "concurrency_limit_exceeded") reason = "concurrency";
  if (!reason) return;
  Registry::global()
      .counter("warden_rejections_total", "Requests refused by rate limits and budgets.", {{"reason", reason}, {"team", team}})
      .inc();
}

int64_t unix_ns_of(SteadyClock::time_point t, SteadyClock::time_point steady_now,
                   std::chrono::system_clock::time_point sys_now) {
  const auto sys = sys_now - std::chrono::duration_cast<std::chrono::system_clock::duration>(steady_now - t);
  return std::chrono::duration_cast<std::chrono::nanoseconds>(sys.time_since_epoch()).count();
}

// The request's trace context, kept in the traceparent response header begin_request set
// (views into that header: no copies).
std::optional<TraceParentView> own_traceparent(const policy::RequestContext& ctx) {
  for (const auto& [k, v] : ctx.response_headers)
    if (k == "traceparent") return parse_traceparent_view(v);
  return std::nullopt;
}

std::string_view parent_span_of(const policy::RequestContext& ctx) {
  auto it = ctx.headers.find("traceparent");
  if (it == ctx.headers.end()) return {};
  auto tp = parse_traceparent_view(it->second);
  return tp ? tp->span_id : std::string_view{};
}

// Per-thread scratch record: spans are filled here, then copied into the exporter's ring.
SpanRecord& scratch_span() {
  thread_local std::unique_ptr<SpanRecord> r = std::make_unique<SpanRecord>();
  return *r;
}

bool cache_hit_of(const policy::RequestContext& ctx) {
  for (const auto& [k, v] : ctx.response_headers)
    if (k == "x-warden-cache") return v == "hit";
  return false;
}

}  // namespace

void begin_request(policy::RequestContext& ctx) {
  Runtime* rt = current_runtime();
  if (!rt || !rt->exporter()) return;
  // The answer header is built in place: "00-" trace(32) "-" span(16) "-" flags(2).
  std::string header(55, '-');
  header[0] = header[1] = '0';
  bool sampled;
  std::optional<TraceParentView> parent;
  if (auto it = ctx.headers.find("traceparent"); it != ctx.headers.end()) parent = parse_traceparent_view(it->second);
  if (parent) {
    parent->trace_id.copy(header.data() + 3, 32);
    sampled = parent->sampled;  // parent-based sampling: the caller decided
  } else {
    fill_random_hex(header.data() + 3, 32);
    thread_local std::mt19937_64 rng{std::random_device{}()};
    sampled = rt->sample_ratio() >= 1.0 ||
              std::uniform_real_distribution<double>(0.0, 1.0)(rng) < rt->sample_ratio();
  }
  fill_random_hex(header.data() + 36, 16);
  header[53] = '0';
  header[54] = sampled ? '1' : '0';
  ctx.response_headers.emplace_back("traceparent", std::move(header));
}

void record_request(const policy::RequestContext& ctx, std::string_view error_code) {
  const auto steady_now = SteadyClock::now();
  const auto sys_now = std::chrono::system_clock::now();
  const double seconds = std::chrono::duration<double>(steady_now - ctx.started).count();
  const double ttft = ctx.first_token_at ? std::chrono::duration<double>(*ctx.first_token_at - ctx.started).count() : -1;
  const std::string_view alias = alias_label(ctx);
  const std::string& team = ctx.caller.team;
  // The budget filter prices requests of teams with a budget; price the rest the same way
  // so chargeback covers every team.
  double cost = ctx.cost_usd;
  if (cost == 0 && ctx.usage.present && ctx.config && !ctx.target.empty())
    cost = policy::cost_usd(*ctx.config, ctx.target, ctx.usage);

  RequestCells* c = cells_for(alias, team, ctx.target, ctx.status, error_code);
  c->requests->inc();
  c->duration->observe(seconds);
  c->genai_duration->observe(seconds);
  if (ttft >= 0) {
    c->ttft->observe(ttft);
    c->genai_ttfc->observe(ttft);
  }
  if (ctx.usage.present) {
    c->tokens_prompt->inc(static_cast<double>(ctx.usage.prompt_tokens));
    c->tokens_completion->inc(static_cast<double>(ctx.usage.completion_tokens));
    c->tokens_cache_hit->inc(static_cast<double>(ctx.usage.cache_hit_tokens));
    c->tokens_reasoning->inc(static_cast<double>(ctx.usage.reasoning_tokens));
    c->genai_tokens_input->observe(static_cast<double>(ctx.usage.prompt_tokens));
    c->genai_tokens_output->observe(static_cast<double>(ctx.usage.completion_tokens));
  }
  if (cost > 0) c->cost->inc(cost);
  if (!ctx.decisions.empty()) count_decisions(ctx);
  if (!error_code.empty()) count_rejection(error_code, team);

  Runtime* rt = current_runtime();
  if (!rt) return;
  if (UsageLedger* ledger = rt->ledger()) {
    UsageRow row;
    row.ts_ms = std::chrono::duration_cast<std::chrono::milliseconds>(sys_now.time_since_epoch()).count();
    row.request_id = ctx.request_id;
    row.key_id = ctx.caller.key_id;
    row.team = team;
    row.alias = std::string(alias);
    row.target = ctx.target;
    if (ctx.usage.present) {
      row.prompt_tokens = ctx.usage.prompt_tokens;
      row.cache_hit_tokens = ctx.usage.cache_hit_tokens;
      row.completion_tokens = ctx.usage.completion_tokens;
      row.reasoning_tokens = ctx.usage.reasoning_tokens;
    }
    row.cost_usd = cost;
    row.latency_ms = seconds * 1000.0;
    row.ttft_ms = ttft >= 0 ? ttft * 1000.0 : -1;
    row.status = ctx.status;
    row.error_code = std::string(error_code);
    row.cache_hit = cache_hit_of(ctx);
    row.stream = ctx.request.stream;
    ledger->append(std::move(row));
  }
  if (OtlpExporter* exporter = rt->exporter()) {
    auto own = own_traceparent(ctx);
    if (!own || !own->sampled) return;
    SpanRecord& s = scratch_span();
    s.reset();
    s.set_trace_id(own->trace_id);
    s.set_span_id(own->span_id);
    s.set_parent_span_id(parent_span_of(ctx));
    s.set_name("chat ", ctx.request.model);
    s.set_kind(SpanKind::Server);
    s.set_times(unix_ns_of(ctx.started, steady_now, sys_now), unix_ns_of(steady_now, steady_now, sys_now));
    s.add("gen_ai.operation.name", "chat");
    s.add("gen_ai.request.model", ctx.request.model);
    if (!ctx.target.empty()) {
      s.add("gen_ai.provider.name", provider_of(ctx.target));
      s.add("gen_ai.response.model", model_of(ctx.target));
    }
    s.add("gen_ai.request.stream", ctx.request.stream);
    if (ctx.request.max_tokens) s.add("gen_ai.request.max_tokens", static_cast<int64_t>(*ctx.request.max_tokens));
    if (ctx.request.temperature) s.add("gen_ai.request.temperature", static_cast<double>(*ctx.request.temperature));
    if (ctx.request.top_p) s.add("gen_ai.request.top_p", static_cast<double>(*ctx.request.top_p));
    if (!ctx.finish_reason.empty()) s.add_array1("gen_ai.response.finish_reasons", ctx.finish_reason);
    if (ctx.usage.present) {
      s.add("gen_ai.usage.input_tokens", ctx.usage.prompt_tokens);
      s.add("gen_ai.usage.output_tokens", ctx.usage.completion_tokens);
      s.add("gen_ai.usage.cache_read.input_tokens", ctx.usage.cache_hit_tokens);
      s.add("gen_ai.usage.reasoning.output_tokens", ctx.usage.reasoning_tokens);
    }
    s.add("http.response.status_code", static_cast<int64_t>(ctx.status));
    s.add("warden.request_id", ctx.request_id);
    if (!team.empty()) s.add("warden.team", team);
    if (ctx.attempts) s.add("warden.attempts", static_cast<int64_t>(ctx.attempts));
    if (cost > 0) s.add("warden.cost_usd", cost);
    if (!error_code.empty()) {
      s.add("error.type", error_code);
      s.set_status(SpanStatus::Error);
    }
    exporter->submit(s);
  }
}

namespace {

// server.address / server.port of a provider's base URL (scheme://host[:port][/prefix]).
struct ServerAddress {
  std::string_view host;
  int64_t port = 0;
};
ServerAddress server_address(std::string_view url) {
  ServerAddress a;
  const auto sch = url.find("://");
  if (sch == std::string_view::npos) return a;
  const bool https = url.substr(0, sch) == "https";
  url.remove_prefix(sch + 3);
  url = url.substr(0, url.find('/'));
  const auto colon = url.rfind(':');
  const bool has_port = colon != std::string_view::npos && url.find(']', colon) == std::string_view::npos;
  a.host = has_port ? url.substr(0, colon) : url;
  a.port = https ? 443 : 80;
  if (has_port) {
    const auto digits = url.substr(colon + 1);
    a.port = 0;
    std::from_chars(digits.data(), digits.data() + digits.size(), a.port);
  }
  return a;
}

// Series every attempt of a target touches, per thread and (target, result).
struct AttemptCells {
  Counter* attempts;
  Counter* retries;
};
AttemptCells& attempt_cells(std::string_view target, bool ok) {
  thread_local StringMap<AttemptCells> cache;
  thread_local std::string key;
  key.assign(target);
  key += ok ? "\x1f" "ok" : "\x1f" "error";
  auto it = cache.find(std::string_view(key));
  if (it != cache.end()) return it->second;
  Registry& r = Registry::global();
  const std::string t(target);
  AttemptCells c;
  c.attempts = &r.counter("warden_upstream_attempts_total", "Upstream attempts, by target and result.",
                          {{"target", t}, {"result", ok ? "ok" : "error"}});
  c.retries = &r.counter("warden_retries_total", "Retries of the same target.", {{"target", t}});
  return cache.emplace(key, c).first->second;
}

}  // namespace

void record_attempt(const policy::RequestContext& ctx, std::string_view target, int attempt,
                    std::chrono::steady_clock::time_point started, const providers::Outcome& out) {
  AttemptCells& cells = attempt_cells(target, out.ok);
  cells.attempts->inc();
  if (attempt > 1) cells.retries->inc();
  else if (ctx.attempts > 1) {
    Registry::global()
        .counter("warden_fallbacks_total", "Attempts moved to another target after a failure, by alias and target.",
                 {{"alias", std::string(alias_label(ctx))}, {"target", std::string(target)}})
        .inc();
  }
  if (!out.ok) {
    Registry::global()
        .counter("warden_upstream_errors_total", "Failed upstream attempts, by target, error code and upstream status.",
                 {{"target", std::string(target)}, {"code", out.error.code}, {"status", std::to_string(out.upstream_status)}})
        .inc();
  }

  Runtime* rt = current_runtime();
  if (!rt || !rt->exporter()) return;
  auto own = own_traceparent(ctx);
  if (!own || !own->sampled) return;
  const auto steady_now = SteadyClock::now();
  const auto sys_now = std::chrono::system_clock::now();
  char span_id[16];
  fill_random_hex(span_id, sizeof span_id);
  SpanRecord& s = scratch_span();
  s.reset();
  s.set_trace_id(own->trace_id);
  s.set_span_id({span_id, sizeof span_id});
  s.set_parent_span_id(own->span_id);
  const std::string_view model = model_of(target);
  s.set_name("chat ", model);
  s.set_kind(SpanKind::Client);
  s.set_times(unix_ns_of(started, steady_now, sys_now), unix_ns_of(steady_now, steady_now, sys_now));
  s.add("gen_ai.operation.name", "chat");
  s.add("gen_ai.provider.name", provider_of(target));
  s.add("gen_ai.request.model", model);
  if (!out.response_model.empty()) s.add("gen_ai.response.model", out.response_model);
  if (!out.finish_reason.empty()) s.add_array1("gen_ai.response.finish_reasons", out.finish_reason);
  if (out.usage.present) {
    s.add("gen_ai.usage.input_tokens", out.usage.prompt_tokens);
    s.add("gen_ai.usage.output_tokens", out.usage.completion_tokens);
    s.add("gen_ai.usage.cache_read.input_tokens", out.usage.cache_hit_tokens);
    s.add("gen_ai.usage.reasoning.output_tokens", out.usage.reasoning_tokens);
  }
  s.add("warden.attempt", static_cast<int64_t>(attempt));
  if (ctx.config) {
    const auto& providers = ctx.config->providers;
    // Heterogeneous find when the map allows it; the provider name is short (no allocation).
    if (auto p = providers.find(std::string(provider_of(target))); p != providers.end()) {
      const ServerAddress addr = server_address(p->second.base_url);
      if (!addr.host.empty() || addr.port) {
        s.add("server.address", addr.host);
        s.add("server.port", addr.port);
      }
    }
  }
  if (out.upstream_status) s.add("http.response.status_code", static_cast<int64_t>(out.upstream_status));
  if (!out.ok) {
    s.add("error.type", out.error.code.empty() ? std::string_view("error") : std::string_view(out.error.code));
    s.set_status(SpanStatus::Error);
  }
  rt->exporter()->submit(s);
}

ActiveStream::ActiveStream(bool stream) : stream_(stream) {
  if (!stream_) return;
  static Gauge& g = Registry::global().gauge("warden_active_streams", "Streamed answers in flight.");
  g.add(1);
}

ActiveStream::~ActiveStream() {
  if (!stream_) return;
  static Gauge& g = Registry::global().gauge("warden_active_streams", "Streamed answers in flight.");
  g.add(-1);
}

void count_config_reload(bool ok) {
  Registry::global()
      .counter("warden_config_reloads_total", "Config reloads, by result.", {{"result", ok ? "ok" : "error"}})
      .inc();
}

}  // namespace warden::telemetry
