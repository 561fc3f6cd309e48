#pragma once
// One parser per top-level YAML section, each in its own file so module owners can extend
// their section without touching the others. parse_* reads `root.map("<section>")` into
// `cfg`; check_* runs after every section was parsed (cross-references).
#include "warden/config/reader.hpp"

namespace warden::config::sections {

void parse_server(MapReader& root, Config& cfg);      // server.cpp
void parse_providers(MapReader& root, Config& cfg);   // providers.cpp
void parse_models(MapReader& root, Config& cfg);      // models.cpp
void parse_routing(MapReader& root, Config& cfg);     // routing.cpp
void parse_pricing(MapReader& root, Config& cfg);     // pricing.cpp
void parse_teams(MapReader& root, Config& cfg);       // teams.cpp
void parse_keys(MapReader& root, Config& cfg);        // keys.cpp
void parse_dlp(MapReader& root, Config& cfg);         // dlp.cpp
void parse_guardrails(MapReader& root, Config& cfg);  // guardrails.cpp
void parse_audit(MapReader& root, Config& cfg);       // audit.cpp
void parse_telemetry(MapReader& root, Config& cfg);   // telemetry.cpp
void parse_cache(MapReader& root, Config& cfg);       // cache.cpp

void check_models(ParseContext& ctx, const Config& cfg);   // models.cpp
void check_routing(ParseContext& ctx, const Config& cfg);  // routing.cpp
void check_teams(ParseContext& ctx, const Config& cfg);    // teams.cpp
void check_keys(ParseContext& ctx, const Config& cfg);     // keys.cpp

// Shared by checks: "'x' is not a model alias (did you mean 'y'?)" etc.
std::vector<std::string> names_of(const auto& map) {
  std::vector<std::string> out;
  for (const auto& [k, v] : map) out.push_back(k);
  return out;
}

}  // namespace warden::config::sections
