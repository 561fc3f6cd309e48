#include "warden/api/anthropic/endpoints.hpp"

#include "warden/api/anthropic/messages_codec.hpp"
#include "warden/api/anthropic/messages_decode.hpp"
#include "warden/api/chat_pipeline.hpp"
#include "warden/api/json_writer.hpp"
#include "warden/config/config.hpp"
#include "warden/policy/auth/auth_filter.hpp"
#include "warden/policy/errors.hpp"
#include "warden/policy/limits/token_counter.hpp"
#include "warden/router/route.hpp"

namespace warden::api::anthropic {

namespace asio = boost::asio;

namespace {

const policy::TokenCounter& estimator() {
  static const policy::EstimatingCounter counter;
  return counter;
}

asio::awaitable<void> messages(server::Exchange& ex, std::shared_ptr<const config::Config> config) {
  MessagesCodec codec;
  co_await run_chat(ex, std::move(config), codec);
}

asio::awaitable<void> count_tokens(server::Exchange& ex, std::shared_ptr<const config::Config> config) {
  policy::RequestContext ctx;
  ctx.request_id = ex.request_id();
  ctx.config = config;
  ctx.wire = policy::WireFormat::Anthropic;
  ctx.endpoint = std::string(ex.path());
  for (auto name : context_header_names())
    if (auto v = ex.header(name)) ctx.headers.emplace(std::string(name), std::string(*v));

  auto fail = [&](const Error& e) -> asio::awaitable<void> {
    ex.access_log().error_code = e.code;
    co_await ex.respond(e.http_status, "application/json", error_body(e));
  };
  // count_tokens needs no max_tokens; decode with a stand-in so the rest is validated the same.
  std::string body = ex.body();
  auto decoded = decode_messages_request(body, /*require_max_tokens=*/false);
  if (!decoded) {
    co_await fail(decoded.error());
    co_return;
  }
  ctx.request = std::move(decoded).value();
  ctx.alias = ctx.request.model;
  ex.access_log().alias = ctx.alias;

  // Authentication and the model allow-list only: counting costs nothing, so rate limits
  // and budgets do not apply.
  policy::AuthFilter auth;
  if (co_await auth.on_request(ctx) == policy::FilterStatus::Reply) {
    co_await fail(ctx.reply.value_or(Error{401, "invalid_api_key", "Invalid API key", "", ""}));
    co_return;
  }
  if (config) {
    auto plan = router::plan_route(*config, ctx);
    if (!plan && plan.error().http_status == 404) {
      co_await fail(plan.error());
      co_return;
    }
  }
  json::Writer w;
  // The count the token limits and budgets use: exact (the model's own tokenizer) when
  // the alias's provider names one (providers.<name>.tokenizer, or a local model's), the
  // estimator otherwise.
  const policy::TokenCounter* counter = &estimator();
  if (config) {
    auto counting = policy::prompt_counter_for(*config, ctx.alias);
    if (counting.unavailable) {
      co_await fail(policy::errors::tokenizer_unavailable(counting.source));
      co_return;
    }
    counter = counting.counter;
  }
  w.begin_object().field_int("input_tokens", policy::measure_prompt(ctx.request, *counter).tokens).end_object();
  co_await ex.respond(200, "application/json", w.take());
}

}  // namespace

int64_t count_tokens_estimate(const ChatRequest& req) { return policy::measure_prompt(req, estimator()).tokens; }

void register_endpoints(server::EndpointTable& table) {
  for (std::string prefix : {"/anthropic/v1", "/v1"}) {
    table.add("POST", prefix + "/messages", messages);
    table.add("POST", prefix + "/messages/count_tokens", count_tokens);
  }
}

}  // namespace warden::api::anthropic
