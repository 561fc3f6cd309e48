// `cache:` section: exact-match response cache.
#include "sections.hpp"

namespace warden::config::sections {

void parse_cache(MapReader& root, Config& cfg) {
  auto m = root.map("cache");
  m.boolean("enabled", cfg.cache.enabled);
  m.integer("ttl_s", cfg.cache.ttl_s, 1, 365 * 86'400);
  m.integer("max_entries", cfg.cache.max_entries, 1, 100'000'000);
  m.boolean("allow_sampling", cfg.cache.allow_sampling);
}

}  // namespace warden::config::sections
