#pragma once
// Providers are built from a config snapshot and shared by every request pinned to it.
// Pools (connections, the engine) that should outlive a reload are kept by provider name
// inside the registry when the provider's settings did not change.
#include <memory>
#include <string_view>

#include "warden/providers/provider.hpp"

namespace warden::config {
struct Config;
}

namespace warden::providers {

// Thread-safe. Returns nullptr for an unknown provider name.
std::shared_ptr<Provider> provider_for(const std::shared_ptr<const config::Config>& config,
                                       std::string_view provider_name);

}  // namespace warden::providers
