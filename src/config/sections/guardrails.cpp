// `guardrails:` section.
#include <hs/hs.h>

#include "sections.hpp"

namespace warden::config::sections {

void parse_guardrails(MapReader& root, Config& cfg) {
  auto m = root.map("guardrails");
  m.boolean("kill_switch", cfg.guardrails.kill_switch);
  m.str_list("blocked_terms", cfg.guardrails.blocked_terms);
  m.str_list("disabled_models", cfg.guardrails.disabled_models);
  std::vector<Position> regex_pos;
  m.str_list("blocked_regex", cfg.guardrails.blocked_regex, &regex_pos);
  // Compiled here with the flags the guardrails filter uses (Hyperscan, single match), so
  // a pattern it would refuse is a config error at its line, never a silent hole.
  for (size_t i = 0; i < cfg.guardrails.blocked_regex.size(); ++i) {
    const auto& re = cfg.guardrails.blocked_regex[i];
    hs_database_t* db = nullptr;
    hs_compile_error_t* err = nullptr;
    if (re.empty()) {
      m.ctx().error(regex_pos[i], m.field("blocked_regex") + "[" + std::to_string(i) + "]: is empty");
    } else if (hs_compile(re.c_str(), HS_FLAG_SINGLEMATCH, HS_MODE_BLOCK, nullptr, &db, &err) != HS_SUCCESS) {
      m.ctx().error(regex_pos[i], m.field("blocked_regex") + "[" + std::to_string(i) +
                                      "]: not a valid regular expression for the guardrails engine (Hyperscan): " +
                                      (err && err->message ? err->message : "unknown error"));
      hs_free_compile_error(err);
    } else {
      hs_free_database(db);
    }
  }
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
