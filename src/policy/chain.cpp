#include "warden/policy/chain.hpp"

#include "warden/config/config.hpp"
#include "warden/policy/audit/audit_filter.hpp"
#include "warden/policy/auth/auth_filter.hpp"
#include "warden/policy/budget/budget_filter.hpp"
#include "warden/policy/cache/cache_filter.hpp"
#include "warden/policy/dlp/dlp_filter.hpp"
#include "warden/policy/guardrails/guardrails_filter.hpp"
#include "warden/policy/limits/limits_filter.hpp"
#include "warden/policy/ratelimit/ratelimit_filter.hpp"
#include "warden/policy/tools/tools_filter.hpp"

namespace warden::policy {

// Order matters: identity first (everything after keys on the caller), then cheap local
// refusals (limits, kill switch), then what reserves shared resources (rate, budget),
// then content rules. Response events pass the filters in REVERSE order
// (api/chat_pipeline.cpp): cache records the upstream's events, DLP restores and redacts,
// then tools and guardrails judge the text the caller will receive (docs/design.md §2).
// The audit filter is last: the pipeline calls on_complete on every filter (even after an
// early refusal), and by then budget has settled the cost.
std::vector<std::unique_ptr<Filter>> make_filters(const RequestContext& ctx) {
  std::vector<std::unique_ptr<Filter>> chain;
  chain.reserve(9);
  chain.push_back(std::make_unique<AuthFilter>());
  chain.push_back(std::make_unique<LimitsFilter>());
  chain.push_back(std::make_unique<GuardrailsFilter>());
  chain.push_back(std::make_unique<ToolsFilter>());
  chain.push_back(std::make_unique<RateLimitFilter>());
  chain.push_back(std::make_unique<BudgetFilter>());
  chain.push_back(std::make_unique<DlpFilter>());
  // After DLP: on the way out it sees (and stores) the upstream's answer first, and a
  // replayed hit passes DLP, tools and guardrails again under the current policy.
  if (ctx.config && ctx.config->cache.enabled) chain.push_back(std::make_unique<CacheFilter>());
  if (ctx.config && !ctx.config->audit.file.empty()) chain.push_back(std::make_unique<AuditFilter>());
  return chain;
}

}  // namespace warden::policy
