// `guardrails:` section.
#include "sections.hpp"

namespace warden::config::sections {

void parse_guardrails(MapReader& root, Config& cfg) {
  auto m = root.map("guardrails");
  m.boolean("kill_switch", cfg.guardrails.kill_switch);
  m.str_list("blocked_terms", cfg.guardrails.blocked_terms);
  m.str_list("disabled_models", cfg.guardrails.disabled_models);
  m.str_list("blocked_regex", cfg.guardrails.blocked_regex);
  if (m.has("moderation")) {
    auto mod = m.map("moderation");
    mod.str("url", cfg.guardrails.moderation_url);
    mod.str("api_key", cfg.guardrails.moderation_api_key);
    mod.choice("on_failure", cfg.guardrails.moderation_failure,
               {{"open", std::string("open")}, {"closed", std::string("closed")}});
    mod.integer("timeout_ms", cfg.guardrails.moderation_timeout_ms, 1, 600'000);
  }
}

}  // namespace warden::config::sections
