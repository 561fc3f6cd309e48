#include "warden/policy/ratelimit/ratelimit_filter.hpp"

#include <cmath>
#include <cstdio>

#include "warden/config/config.hpp"
#include "warden/policy/errors.hpp"
#include "warden/policy/limits/token_counter.hpp"
#include "warden/policy/runtime.hpp"

namespace warden::policy {

std::string format_reset(double seconds) {
  if (seconds < 0) seconds = 0;
  char buf[32];
  if (seconds < 1) {
    std::snprintf(buf, sizeof buf, "%dms", static_cast<int>(std::ceil(seconds * 1000)));
  } else if (seconds < 60) {
    std::snprintf(buf, sizeof buf, "%.3gs", seconds);
  } else {
    int total = static_cast<int>(std::ceil(seconds));
    std::snprintf(buf, sizeof buf, "%dm%ds", total / 60, total % 60);
  }
  return buf;
}

namespace {

bool any(const config::RateLimits& l) { return l.rpm > 0 || l.tpm > 0 || l.concurrency > 0; }

void add_headers(RequestContext& ctx, const RateDecision& d) {
  if (d.limit_requests >= 0) {
    ctx.response_headers.emplace_back("x-ratelimit-limit-requests", std::to_string(d.limit_requests));
    ctx.response_headers.emplace_back("x-ratelimit-remaining-requests", std::to_string(d.remaining_requests));
    ctx.response_headers.emplace_back("x-ratelimit-reset-requests", format_reset(d.reset_requests_s));
  }
  if (d.limit_tokens >= 0) {
    ctx.response_headers.emplace_back("x-ratelimit-limit-tokens", std::to_string(d.limit_tokens));
    ctx.response_headers.emplace_back("x-ratelimit-remaining-tokens", std::to_string(d.remaining_tokens));
    ctx.response_headers.emplace_back("x-ratelimit-reset-tokens", format_reset(d.reset_tokens_s));
  }
}

// The decision to show: the scope with fewer requests left (then fewer tokens).
bool tighter(const RateDecision& a, const RateDecision& b) {
  auto req = [](const RateDecision& d) { return d.remaining_requests < 0 ? INT64_MAX : d.remaining_requests; };
  auto tok = [](const RateDecision& d) { return d.remaining_tokens < 0 ? INT64_MAX : d.remaining_tokens; };
  if (req(a) != req(b)) return req(a) < req(b);
  return tok(a) < tok(b);
}

}  // namespace

RateLimitFilter::~RateLimitFilter() {
  if (!released_)
    for (auto& h : held_) RateLimiter::release(*h.bucket);
}

asio::awaitable<FilterStatus> RateLimitFilter::on_request(RequestContext& ctx) {
  const auto* team = ctx.config->team(ctx.caller.team);
  if (!team || (!any(team->rate_limits) && !any(team->key_rate_limits))) co_return FilterStatus::Continue;
  auto& limiter = Runtime::for_config(*ctx.config).limiter();
  const std::string& alias = ctx.alias.empty() ? ctx.request.model : ctx.alias;
  auto counting = prompt_counter_for(*ctx.config, alias);
  if (counting.unavailable) {
    ctx.reply = errors::tokenizer_unavailable(counting.source);
    co_return FilterStatus::Reply;
  }
  estimated_ = measure_prompt(ctx.request, *counting.counter).tokens + ctx.request.max_tokens.value_or(0);

  std::vector<std::pair<std::string, config::RateLimits>> scopes;
  if (any(team->rate_limits)) scopes.emplace_back("team:" + team->name, team->rate_limits);
  if (any(team->key_rate_limits)) scopes.emplace_back("key:" + ctx.caller.key_id, team->key_rate_limits);

  std::optional<RateDecision> shown;
  for (const auto& [scope, limits] : scopes) {
    auto bucket = limiter.bucket(scope);
    RateDecision d = RateLimiter::admit(*bucket, limits, estimated_);
    if (!d.allowed) {
      for (auto& h : held_) RateLimiter::refund(*h.bucket, h.limits, estimated_);
      held_.clear();
      add_headers(ctx, d);
      int retry = std::max(1, static_cast<int>(std::ceil(d.retry_after_s)));
      ctx.response_headers.emplace_back("retry-after", std::to_string(retry));
      ctx.decisions["ratelimit." + d.limit] = 1;
      std::string who = scope.rfind("team:", 0) == 0 ? "team" : "key";
      ctx.reply = errors::rate_limit_exceeded("Rate limit exceeded (" + who + " " + d.limit +
                                              "). Retry after " + std::to_string(retry) + "s.");
      co_return FilterStatus::Reply;
    }
    held_.push_back({std::move(bucket), limits});
    if (!shown || tighter(d, *shown)) shown = d;
  }
  if (shown) add_headers(ctx, *shown);
  co_return FilterStatus::Continue;
}

void RateLimitFilter::on_complete(RequestContext& ctx) {
  if (released_) return;
  int64_t actual = ctx.usage.present ? ctx.usage.prompt_tokens + ctx.usage.completion_tokens : estimated_;
  for (auto& h : held_) {
    RateLimiter::settle(*h.bucket, h.limits, estimated_, actual);
    RateLimiter::release(*h.bucket);
  }
  released_ = true;
}

}  // namespace warden::policy
