// `guardrails:` section.
#include "sections.hpp"

namespace warden::config::sections {

void parse_guardrails(MapReader& root, Config& cfg) {
  auto m = root.map("guardrails");
  m.boolean("kill_switch", cfg.guardrails.kill_switch);
  m.str_list("blocked_terms", cfg.guardrails.blocked_terms);
  m.str_list("disabled_models", cfg.guardrails.disabled_models);
}

}  // namespace warden::config::sections
