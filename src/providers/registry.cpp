// Provider registry: builds providers per config snapshot (placeholder until real).
#include "warden/providers/registry.hpp"

namespace warden::providers {

std::shared_ptr<Provider> provider_for(const std::shared_ptr<const config::Config>& config,
                                       std::string_view provider_name) {
  (void)config;
  (void)provider_name;
  return nullptr;
}

}  // namespace warden::providers
