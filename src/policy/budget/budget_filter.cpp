#include "warden/policy/budget/budget_filter.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>

#include "warden/config/config.hpp"
#include "warden/policy/budget/pricing.hpp"
#include "warden/policy/errors.hpp"
#include "warden/policy/limits/token_counter.hpp"
#include "warden/policy/runtime.hpp"

namespace warden::policy {

BudgetFilter::~BudgetFilter() {
  if (reservation_ && ledger_) ledger_->release(*reservation_);
}

asio::awaitable<FilterStatus> BudgetFilter::on_request(RequestContext& ctx) {
  const auto* team = ctx.config->team(ctx.caller.team);
  if (!team) co_return FilterStatus::Continue;
  const auto& b = team->budget;
  if (b.usd_per_month <= 0 && b.tokens_per_day <= 0) co_return FilterStatus::Continue;
  ledger_ = Runtime::for_config(*ctx.config).ledger();
  if (!ledger_) {
    // Fail closed for hard budgets: without the ledger spend cannot be bounded.
    if (b.mode == config::BudgetMode::Hard) {
      ctx.reply = Error{503, "budget_unavailable", "The budget ledger is unavailable.", "server_error", ""};
      co_return FilterStatus::Reply;
    }
    co_return FilterStatus::Continue;
  }
  const std::string& alias = ctx.alias.empty() ? ctx.request.model : ctx.alias;
  if (!ctx.request.max_tokens)
    ctx.request.max_tokens = team->max_tokens > 0 ? team->max_tokens : kDefaultBudgetMaxTokens;
  int64_t max_out = *ctx.request.max_tokens;
  auto counting = prompt_counter_for(*ctx.config, alias);
  if (counting.unavailable) {
    ctx.reply = errors::tokenizer_unavailable(counting.source);
    co_return FilterStatus::Reply;
  }
  // Exact prompt tokens when the model's tokenizer is known; else the byte upper bound,
  // so a budget never overspends on an estimate.
  const int64_t prompt_tokens = counting.budget_tokens(measure_prompt(ctx.request, *counting.counter));
  Spend ask{prompt_tokens + max_out, worst_case_usd(*ctx.config, alias, prompt_tokens, max_out)};
  BudgetLimits limits{b.tokens_per_day, b.usd_per_month, b.mode == config::BudgetMode::Hard};
  auto result = ledger_->reserve("team:" + team->name, limits, ask);
  if (auto* refusal = std::get_if<BudgetRefusal>(&result)) {
    ctx.decisions["budget.blocked"] = 1;
    char msg[256];
    if (refusal->dimension == "usd_per_month")
      std::snprintf(msg, sizeof msg,
                    "Team budget exceeded: usd_per_month %.4f, used or reserved %.4f, this request may cost up to %.4f",
                    refusal->limit, refusal->used, refusal->asked);
    else
      std::snprintf(msg, sizeof msg,
                    "Team budget exceeded: tokens_per_day %.0f, used or reserved %.0f, this request may use up to %.0f",
                    refusal->limit, refusal->used, refusal->asked);
    // Say how the prompt was counted, so "why was a small request refused" has an answer.
    ctx.reply = errors::budget_exceeded(std::string(msg) + " (prompt " + std::to_string(prompt_tokens) + " tokens, " +
                                        counting.source + " + max_tokens " + std::to_string(max_out) + ").");
    co_return FilterStatus::Reply;
  }
  reservation_ = std::get<Reservation>(std::move(result));
  co_return FilterStatus::Continue;
}

void BudgetFilter::on_complete(RequestContext& ctx) {
  if (!reservation_ || !ledger_) return;
  Reservation r = std::move(*reservation_);
  reservation_.reset();
  Spend actual;
  if (ctx.usage.present) {
    actual.tokens = ctx.usage.prompt_tokens + ctx.usage.completion_tokens;
    actual.usd = cost_usd(*ctx.config, ctx.target, ctx.usage);
    if (ctx.cost_usd == 0) ctx.cost_usd = actual.usd;
  } else if (ctx.status >= 200 && ctx.status < 300) {
    // Answered but usage unknown: charge the worst case rather than nothing.
    actual = r.amount;
    ctx.decisions["budget.charged_reservation"] = 1;
  } else {
    ledger_->release(r);
    return;
  }
  auto [day, month] = ledger_->settle(r, actual);
  const auto* team = ctx.config->team(ctx.caller.team);
  if (!team) return;
  const auto& b = team->budget;
  // Alerts fire on the request that crosses a threshold, once per crossing.
  for (double f : b.alert_at) {
    bool crossed = false;
    if (b.usd_per_month > 0) {
      double t = f * b.usd_per_month;
      crossed |= month.usd >= t && month.usd - actual.usd < t;
    }
    if (b.tokens_per_day > 0) {
      double t = f * static_cast<double>(b.tokens_per_day);
      crossed |= day.tokens >= t && day.tokens - actual.tokens < t;
    }
    if (crossed) {
      ctx.decisions["budget.alert"] += 1;
      spdlog::warn("budget alert: team {} crossed {:.0f}% (month usd {:.4f}/{:.4f}, day tokens {}/{})", team->name,
                   f * 100, month.usd, b.usd_per_month, day.tokens, b.tokens_per_day);
    }
  }
  if (b.mode == config::BudgetMode::Soft &&
      ((b.usd_per_month > 0 && month.usd > b.usd_per_month) ||
       (b.tokens_per_day > 0 && day.tokens > b.tokens_per_day)))
    ctx.decisions["budget.soft_exceeded"] = 1;
  if (b.mode == config::BudgetMode::Soft) {
    // The one request whose charge takes a dimension over its soft limit (settle returns
    // totals after each charge under the ledger's lock, so exactly one sees the crossing):
    // one warn line, and a decision telemetry counts as
    // warden_budget_soft_exceeded_total{team,dimension}.
    auto crossed = [&](const char* dimension, double total, double charged, double limit) {
      if (limit <= 0 || !(total > limit) || total - charged > limit) return;
      ctx.decisions[std::string("budget.soft_exceeded.") + dimension] = 1;
      spdlog::warn("soft budget exceeded: team {} {} {:.6g} > limit {:.6g} (request {}; the request was served)",
                   team->name, dimension, total, limit, ctx.request_id);
    };
    crossed("usd_per_month", month.usd, actual.usd, b.usd_per_month);
    crossed("tokens_per_day", static_cast<double>(day.tokens), static_cast<double>(actual.tokens),
            static_cast<double>(b.tokens_per_day));
  }
}

}  // namespace warden::policy
