#pragma once
// The router's door (DESIGN §2 step 4): alias → ordered targets (rules, weighted/canary
// choice, fallback chains), attempts with retries and circuit breakers, and the answer of
// the attempt that succeeded streamed into `sink`. Nothing is retried once sink.committed().
#include <boost/asio/awaitable.hpp>

#include "warden/policy/request_context.hpp"
#include "warden/providers/provider.hpp"

namespace warden::router {

// Uses ctx.config (pinned snapshot), ctx.alias / ctx.request / ctx.caller / headers.
// Sets ctx.target ("provider/model"), ctx.attempts, ctx.usage and ctx.finish_reason.
// Unknown alias → !ok with 404 code "model_not_found".
boost::asio::awaitable<providers::Outcome> dispatch(policy::RequestContext& ctx, providers::EventSink& sink);

}  // namespace warden::router
