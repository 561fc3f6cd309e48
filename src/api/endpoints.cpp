// Registers the gateway's model-facing endpoints. The Anthropic routes are added here
// too once its codec exists (it runs the same chat pipeline).
#include "warden/api/endpoints.hpp"

#include <chrono>

#include "warden/api/anthropic/endpoints.hpp"
#include "warden/api/chat_pipeline.hpp"
#include "warden/api/json_writer.hpp"
#include "warden/api/openai/chat_codec.hpp"
#include "warden/config/config.hpp"
#include "warden/policy/admin/admin_endpoints.hpp"
#include "warden/policy/auth/auth_filter.hpp"
#include "warden/policy/chain.hpp"
#include "warden/router/admin.hpp"
#include "warden/server/admin.hpp"

namespace warden::api {

namespace asio = boost::asio;

namespace {

asio::awaitable<void> chat_completions(server::Exchange& ex, std::shared_ptr<const config::Config> config) {
  openai::OpenAIChatCodec codec;
  co_await run_chat(ex, std::move(config), codec);
}

// GET /v1/models: the aliases from `models:` the caller may use (the policy chain runs
// first, so a wrong key is a 401 here as on chat).
asio::awaitable<void> list_models(server::Exchange& ex, std::shared_ptr<const config::Config> config) {
  policy::RequestContext ctx;
  ctx.request_id = ex.request_id();
  ctx.config = config;
  ctx.endpoint = std::string(ex.path());
  for (auto name : context_header_names())
    if (auto v = ex.header(name)) ctx.headers.emplace(std::string(name), std::string(*v));
  auto filters = policy::make_filters(ctx);
  for (auto& f : filters) {
    if (co_await f->on_request(ctx) == policy::FilterStatus::Reply) {
      Error e = ctx.reply.value_or(Error{500, "internal_error", "A policy filter answered without a reply.", "", ""});
      ctx.status = e.http_status;
      ex.access_log().error_code = e.code;
      for (const auto& [k, v] : ctx.response_headers) ex.add_header(k, v);
      co_await ex.respond(e.http_status, "application/json", openai::error_body(e));
      for (auto& f2 : filters) f2->on_complete(ctx);
      co_return;
    }
  }
  const int64_t created =
      config ? std::chrono::duration_cast<std::chrono::seconds>(config->loaded_at.time_since_epoch()).count() : 0;
  json::Writer w;
  w.begin_object().field("object", "list").key("data").begin_array();
  if (config) {
    for (const auto& [alias, route] : config->models) {
      if (!ctx.caller.key_id.empty() && !policy::model_allowed(*config, ctx.caller, alias)) continue;
      w.begin_object().field("id", alias).field("object", "model").field_int("created", created);
      w.field("owned_by", "warden").end_object();
    }
  }
  w.end_array().end_object();
  ctx.status = 200;
  for (const auto& [k, v] : ctx.response_headers) ex.add_header(k, v);
  co_await ex.respond(200, "application/json", w.take());
  for (auto& f : filters) f->on_complete(ctx);
}

}  // namespace

void register_endpoints(server::EndpointTable& table) {
  table.add("POST", "/v1/chat/completions", chat_completions);
  table.add("GET", "/v1/models", list_models);
  anthropic::register_endpoints(table);          // /anthropic/v1/messages (+count_tokens), /v1/messages
  router::register_admin_endpoints(server::admin_endpoints());  // GET /admin/breakers
  policy::admin::register_admin_endpoints(server::admin_endpoints());  // /admin/keys, /admin/teams
}

}  // namespace warden::api
