// router::dispatch — alias → target → provider attempt (minimal first version: first target
// of the alias, no rules/retries yet; those land in their own files).
#include "warden/router/dispatch.hpp"

#include <simdjson.h>

#include "warden/config/config.hpp"
#include "warden/providers/registry.hpp"

namespace warden::router {

namespace {

// Merges a target's `params` JSON object into the request: known fields set the typed
// member, the rest go to `extra` (replacing a caller-sent field of the same name).
void apply_params(api::ChatRequest& req, const std::string& params_json) {
  if (params_json.empty()) return;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(params_json).get(doc) != simdjson::SUCCESS) return;
  simdjson::dom::object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS) return;
  for (auto field : obj) {
    std::string key(field.key);
    std::string raw = simdjson::minify(field.value);
    if (key == "thinking") { req.thinking_json = raw; continue; }
    if (key == "reasoning_effort" && field.value.is_string()) { req.reasoning_effort = std::string(field.value.get_string().value()); continue; }
    if (key == "temperature" && field.value.is_number()) { req.temperature = double(field.value.get_double().value()); continue; }
    if (key == "top_p" && field.value.is_number()) { req.top_p = double(field.value.get_double().value()); continue; }
    if (key == "max_tokens" && field.value.is_int64()) { req.max_tokens = field.value.get_int64().value(); continue; }
    bool replaced = false;
    for (auto& [name, value] : req.extra) {
      if (name == key) { value = raw; replaced = true; }
    }
    if (!replaced) req.extra.emplace_back(key, raw);
  }
}

}  // namespace

boost::asio::awaitable<providers::Outcome> dispatch(policy::RequestContext& ctx, providers::EventSink& sink) {
  providers::Outcome out;
  const std::string& alias = ctx.alias.empty() ? ctx.request.model : ctx.alias;
  const config::ModelRoute* route = ctx.config ? ctx.config->model(alias) : nullptr;
  if (!route || route->targets.empty()) {
    out.error = Error{404, "model_not_found", "The model '" + alias + "' does not exist", "invalid_request_error", "model"};
    co_return out;
  }
  const config::ModelTarget& target = route->targets.front();
  auto provider = providers::provider_for(ctx.config, target.provider);
  if (!provider) {
    out.error = Error{502, "provider_unavailable", "No provider for target " + target.provider, "server_error", ""};
    co_return out;
  }
  api::ChatRequest req = ctx.request;
  req.model = target.model;
  apply_params(req, target.params_json);
  ctx.target = target.provider + "/" + target.model;
  ctx.attempts = 1;
  out = co_await provider->stream(req, sink);
  if (out.ok) {
    ctx.usage = out.usage;
    ctx.finish_reason = out.finish_reason;
  }
  co_return out;
}

}  // namespace warden::router
