#include "warden/policy/limits/limits_filter.hpp"

#include "warden/config/config.hpp"
#include "warden/policy/errors.hpp"
#include "warden/policy/limits/token_counter.hpp"

namespace warden::policy {

asio::awaitable<FilterStatus> LimitsFilter::on_request(RequestContext& ctx) {
  const auto* team = ctx.config->team(ctx.caller.team);
  if (!team) co_return FilterStatus::Continue;
  if (team->max_prompt_tokens > 0) {
    const std::string& alias = ctx.alias.empty() ? ctx.request.model : ctx.alias;
    auto counting = prompt_counter_for(*ctx.config, alias);
    if (counting.unavailable) {
      ctx.reply = errors::tokenizer_unavailable(counting.source);
      co_return FilterStatus::Reply;
    }
    auto size = measure_prompt(ctx.request, *counting.counter);
    if (size.tokens > team->max_prompt_tokens) {
      ctx.decisions["limits.prompt_too_large"] = 1;
      ctx.reply = errors::prompt_too_large("The prompt is about " + std::to_string(size.tokens) +
                                           " tokens; this team's limit is " +
                                           std::to_string(team->max_prompt_tokens) + ".");
      co_return FilterStatus::Reply;
    }
  }
  if (team->max_tokens > 0 && ctx.request.max_tokens && *ctx.request.max_tokens > team->max_tokens) {
    if (team->max_tokens_mode == "reject") {
      ctx.decisions["limits.max_tokens_rejected"] = 1;
      ctx.reply = errors::max_tokens_exceeded("max_tokens " + std::to_string(*ctx.request.max_tokens) +
                                              " is above this team's cap of " +
                                              std::to_string(team->max_tokens) + ".");
      co_return FilterStatus::Reply;
    }
    ctx.request.max_tokens = team->max_tokens;
    ctx.decisions["limits.max_tokens_clamped"] = 1;
  } else if (team->max_tokens > 0 && !ctx.request.max_tokens) {
    // An absent max_tokens would let the upstream use its own (larger) default.
    ctx.request.max_tokens = team->max_tokens;
  }
  co_return FilterStatus::Continue;
}

}  // namespace warden::policy
