#include "warden/policy/audit/audit_filter.hpp"

#include "warden/config/config.hpp"
#include "warden/policy/budget/pricing.hpp"
#include "warden/policy/runtime.hpp"
#include "warden/telemetry/audit/audit_log.hpp"

namespace warden::policy {

void AuditFilter::on_complete(RequestContext& ctx) {
  if (!ctx.config) return;
  auto* log = Runtime::for_config(*ctx.config).audit(*ctx.config);
  if (!log) return;
  telemetry::AuditEvent ev;
  ev.request_id = ctx.request_id;
  ev.key_id = ctx.caller.key_id;
  ev.team = ctx.caller.team;
  ev.alias = ctx.alias.empty() ? ctx.request.model : ctx.alias;
  ev.target = ctx.target;
  ev.status = ctx.status != 0 ? ctx.status : (ctx.reply ? ctx.reply->http_status : 0);
  if (ctx.usage.present) {
    ev.prompt_tokens = ctx.usage.prompt_tokens;
    ev.completion_tokens = ctx.usage.completion_tokens;
    ev.cache_hit_tokens = ctx.usage.cache_hit_tokens;
  }
  ev.cost_usd = ctx.cost_usd != 0 || !ctx.usage.present ? ctx.cost_usd : cost_usd(*ctx.config, ctx.target, ctx.usage);
  ev.latency_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - ctx.started)
                      .count();
  ev.decisions = ctx.decisions;
  if (ctx.reply) ev.decisions["refused." + ctx.reply->code] = 1;
  log->append(std::move(ev));
}

}  // namespace warden::policy
