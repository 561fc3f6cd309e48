// Builds providers per config snapshot. Providers (and so their connection pools and
// engines) are cached by name: a reload whose provider settings are unchanged gets the
// same instance back, so warm keep-alive connections and loaded models survive it.
#include "warden/providers/registry.hpp"

#include <map>
#include <mutex>

#include "warden/config/config.hpp"
#include "warden/providers/anthropic/anthropic_provider.hpp"
#include "warden/providers/local_factory.hpp"
#include "warden/providers/openai_compat/openai_compat_provider.hpp"
#include "warden/providers/registry_pools.hpp"

namespace warden::providers {

namespace {

struct Entry {
  config::ProviderConfig cfg;
  std::shared_ptr<Provider> provider;
};

struct Registry {
  std::mutex mu;
  std::map<std::string, Entry, std::less<>> by_name;
};

// Never destroyed: pools hold sockets of io_contexts that are gone by static-destruction time.
Registry& registry() {
  static Registry* r = new Registry;
  return *r;
}

std::shared_ptr<Provider> build(const config::ProviderConfig& cfg) {
  switch (cfg.type) {
    case config::ProviderType::OpenAI:
      return std::make_shared<OpenAICompatProvider>(cfg, make_pool(cfg));
    case config::ProviderType::Anthropic:
      return anthropic::make_provider(cfg, make_pool(cfg));
    case config::ProviderType::Local:
      return make_local_provider(cfg);
  }
  return nullptr;
}

}  // namespace

std::shared_ptr<upstream::Pool> make_pool(const config::ProviderConfig& cfg) {
  auto url = upstream::parse_base_url(cfg.base_url);
  if (!url) return nullptr;
  upstream::PoolSettings ps;
  ps.ca_file = cfg.ca_file;
  ps.max_idle = static_cast<size_t>(std::max<int64_t>(1, cfg.max_connections));
  return std::make_shared<upstream::Pool>(std::move(*url), std::move(ps));
}

std::shared_ptr<Provider> provider_for(const std::shared_ptr<const config::Config>& config,
                                       std::string_view provider_name) {
  if (!config) return nullptr;
  const config::ProviderConfig* cfg = config->provider(provider_name);
  if (!cfg) return nullptr;
  auto& reg = registry();
  std::shared_ptr<Provider> old;  // a replaced provider is released outside the lock
  std::lock_guard lock(reg.mu);
  auto it = reg.by_name.find(provider_name);
  if (it != reg.by_name.end() && it->second.cfg == *cfg && it->second.provider) return it->second.provider;
  auto fresh = build(*cfg);
  if (!fresh) return nullptr;
  if (it != reg.by_name.end()) {
    old = std::move(it->second.provider);
    it->second = Entry{*cfg, fresh};
  } else {
    reg.by_name.emplace(std::string(provider_name), Entry{*cfg, fresh});
  }
  return fresh;
}

}  // namespace warden::providers
