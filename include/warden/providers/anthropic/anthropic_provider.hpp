#pragma once
// `type: anthropic` providers (Anthropic itself, DeepSeek's /anthropic endpoint):
// POST {base_url}/v1/messages with x-api-key, anthropic-version (the caller's, else
// 2023-06-01) and anthropic-beta passed through; Anthropic SSE or JSON back into canonical
// events. Timeouts as for every provider: connect, first payload byte, idle between
// payloads (ping events and comments are not payload), total.
#include <memory>

#include "warden/config/providers.hpp"
#include "warden/providers/provider.hpp"
#include "warden/providers/upstream/http_client.hpp"

namespace warden::providers::anthropic {

inline constexpr const char* kDefaultVersion = "2023-06-01";

// `pool` is the provider's connection pool (kept across reloads by the registry).
std::shared_ptr<Provider> make_provider(const config::ProviderConfig& cfg, std::shared_ptr<upstream::Pool> pool);

}  // namespace warden::providers::anthropic
