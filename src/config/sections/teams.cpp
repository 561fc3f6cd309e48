// `teams:` section.
#include "sections.hpp"

namespace warden::config::sections {

void parse_teams(MapReader& root, Config& cfg) {
  auto all = root.map("teams");
  for (const auto& entry : all.entries()) {
    MapReader m(all.ctx(), entry.value, all.field(entry.key), entry.value_pos);
    Team team;
    team.name = entry.key;
    team.pos = entry.key_pos;
    m.str_list("models", team.models, &team.models_pos);
    {
      auto r = m.map("rate_limits");
      r.integer("rpm", team.rate_limits.rpm, 0);
      r.integer("tpm", team.rate_limits.tpm, 0);
      r.integer("concurrency", team.rate_limits.concurrency, 0);
    }
    {
      auto r = m.map("key_rate_limits");
      r.integer("rpm", team.key_rate_limits.rpm, 0);
      r.integer("tpm", team.key_rate_limits.tpm, 0);
      r.integer("concurrency", team.key_rate_limits.concurrency, 0);
    }
    {
      auto b = m.map("budget");
      b.number("usd_per_month", team.budget.usd_per_month, 0);
      b.integer("tokens_per_day", team.budget.tokens_per_day, 0);
      b.choice("mode", team.budget.mode, {{"hard", BudgetMode::Hard}, {"soft", BudgetMode::Soft}});
      b.num_list("alert_at", team.budget.alert_at, 0.0, 1.0);
    }
    if (m.str_map("dlp", team.dlp)) {
      for (const auto& [detector, action] : team.dlp)
        if (action != "redact" && action != "block" && action != "allow" && action != "log")
          m.ctx().error(m.get("dlp")->value_pos,
                        m.field("dlp") + "." + detector + ": expected one of redact | block | log | allow");
    }
    {
      auto t = m.map("tools");
      t.str_list("allow", team.tools.allow);
      t.str_list("deny", team.tools.deny);
      t.choice("on_violation", team.tools.on_violation,
               {{"reject", std::string("reject")}, {"strip", std::string("strip")}});
    }
    {
      auto g = m.map("guardrails");
      g.boolean("disabled", team.guardrails.disabled);
      g.str_list("blocked_terms", team.guardrails.blocked_terms);
    }
    m.integer("max_tokens", team.max_tokens, 0);
    m.choice("max_tokens_mode", team.max_tokens_mode,
             {{"clamp", std::string("clamp")}, {"reject", std::string("reject")}});
    m.integer("max_prompt_tokens", team.max_prompt_tokens, 0);
    cfg.teams[team.name] = std::move(team);
  }
}

void check_teams(ParseContext& ctx, const Config& cfg) {
  auto aliases = names_of(cfg.models);
  for (const auto& [name, team] : cfg.teams) {
    for (size_t i = 0; i < team.models.size(); ++i) {
      const auto& alias = team.models[i];
      if (alias == "*" || cfg.models.count(alias)) continue;
      ctx.error(team.models_pos[i],
                "teams." + name + ".models: '" + alias + "' is not a model alias" + did_you_mean_suffix(alias, aliases));
    }
  }
}

}  // namespace warden::config::sections
