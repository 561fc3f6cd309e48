#pragma once
// Connection pools for HTTP providers, built from a provider's config. The registry keeps
// one per provider name across reloads while the provider's settings are unchanged.
#include <memory>

#include "warden/config/providers.hpp"
#include "warden/providers/upstream/http_client.hpp"

namespace warden::providers {

// Null when base_url does not parse (the provider then reports that on every attempt).
std::shared_ptr<upstream::Pool> make_pool(const config::ProviderConfig& cfg);

}  // namespace warden::providers
