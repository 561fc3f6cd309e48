#pragma once
// Provider for `type: openai` upstreams (DeepSeek, OpenAI, vLLM, …): canonical request →
// POST {base_url}/chat/completions with the provider's own key (the caller's key is never
// forwarded), the upstream's SSE or JSON answer → canonical events. Shared by every
// request on a config snapshot; stream() is safe to call concurrently.
#include <memory>
#include <string>

#include "warden/config/providers.hpp"
#include "warden/providers/provider.hpp"
#include "warden/providers/upstream/http_client.hpp"

namespace warden::providers {

class OpenAICompatProvider final : public Provider {
 public:
  // `pool`: the provider's connection pool (kept across reloads by the registry); null =
  // make one here.
  explicit OpenAICompatProvider(const config::ProviderConfig& cfg, std::shared_ptr<upstream::Pool> pool = nullptr);
  asio::awaitable<Outcome> stream(const api::ChatRequest& req, EventSink& sink) override;
  std::string type() const override { return "openai"; }

  // The request path used upstream (prefix from base_url + /chat/completions).
  const std::string& chat_path() const { return chat_path_; }
  const std::shared_ptr<upstream::Pool>& pool() const { return pool_; }

 private:
  config::ProviderConfig cfg_;
  std::string config_error_;  // a base_url that does not parse: every attempt fails with it
  std::string chat_path_;
  std::shared_ptr<upstream::Pool> pool_;
};

}  // namespace warden::providers
