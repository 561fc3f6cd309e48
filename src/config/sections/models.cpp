// `models:` section: aliases → weighted targets + fallback aliases.
#include "sections.hpp"

namespace warden::config::sections {

void parse_models(MapReader& root, Config& cfg) {
  auto all = root.map("models");
  for (const auto& entry : all.entries()) {
    MapReader m(all.ctx(), entry.value, all.field(entry.key), entry.value_pos);
    ModelRoute route;
    route.alias = entry.key;
    route.pos = entry.key_pos;
    const auto* targets = m.get("targets");
    if (!targets) {
      m.ctx().error(entry.key_pos, m.field("targets") + ": required (a list of {provider, model})");
    } else {
      size_t i = 0;
      auto items = sequence_items(m.ctx(), targets->value, m.field("targets"), targets->value_pos);
      if (targets->value.IsSequence() && items.empty())
        m.ctx().error(targets->value_pos, m.field("targets") + ": needs at least one target");
      for (const auto& [node, p] : items) {
        MapReader t(m.ctx(), node, m.field("targets") + "[" + std::to_string(i++) + "]", p);
        ModelTarget target;
        target.pos = t.pos();
        if (t.str("provider", target.provider)) target.provider_pos = t.get("provider")->value_pos;
        else t.ctx().error(t.pos(), t.field("provider") + ": required");
        if (!t.str("model", target.model)) t.ctx().error(t.pos(), t.field("model") + ": required");
        t.integer("weight", target.weight, 0, 1'000'000);
        t.integer("max_concurrency", target.max_concurrency, 0, 1'000'000);
        if (const auto* params = t.get("params")) {
          if (!params->value.IsMap()) t.ctx().error(params->value_pos, t.field("params") + ": expected a map");
          else t.json("params", target.params_json);
        }
        route.targets.push_back(std::move(target));
      }
    }
    m.str_list("fallback", route.fallback, &route.fallback_pos);
    cfg.models[route.alias] = std::move(route);
  }
}

void check_models(ParseContext& ctx, const Config& cfg) {
  auto providers = names_of(cfg.providers);
  auto aliases = names_of(cfg.models);
  for (const auto& [alias, route] : cfg.models) {
    for (const auto& t : route.targets) {
      if (t.provider.empty() || cfg.providers.count(t.provider)) continue;
      ctx.error(t.provider_pos, "models." + alias + ": provider '" + t.provider + "' is not defined in providers" +
                                    did_you_mean_suffix(t.provider, providers));
    }
    for (size_t i = 0; i < route.fallback.size(); ++i) {
      const auto& fb = route.fallback[i];
      Position p = i < route.fallback_pos.size() ? route.fallback_pos[i] : route.pos;
      if (fb == alias) ctx.error(p, "models." + alias + ".fallback: an alias cannot fall back to itself");
      else if (!cfg.models.count(fb))
        ctx.error(p, "models." + alias + ".fallback: '" + fb + "' is not a model alias" + did_you_mean_suffix(fb, aliases));
    }
  }
}

}  // namespace warden::config::sections
