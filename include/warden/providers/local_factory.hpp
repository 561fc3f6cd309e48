#pragma once
// `type: local` providers: the embedded engine (src/engine) behind the Provider door.
// The registry calls make_local_provider for every config snapshot; engines are kept by
// provider name, so a reload that leaves a local provider's settings unchanged keeps the
// running engine (and its warm prefix cache) instead of loading the model again.
#include <memory>

#include "warden/providers/provider.hpp"

namespace warden::config {
struct ProviderConfig;
}

namespace warden::engine {
class Engine;
}

namespace warden::providers {

// Thread-safe. Never throws: when the model cannot be loaded the provider answers every
// request with a 503 `engine_unavailable` error naming the cause (the router then treats
// it as a failing target).
std::shared_ptr<Provider> make_local_provider(const config::ProviderConfig& cfg);

// The engine behind a provider made by make_local_provider (null if it failed to load);
// for stats (admin API, metrics).
std::shared_ptr<engine::Engine> local_engine_of(const Provider& provider);

}  // namespace warden::providers
