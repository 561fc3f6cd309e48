// `routing:` section: retries, circuit breaker, first-match rules.
#include "sections.hpp"

namespace warden::config::sections {

void parse_routing(MapReader& root, Config& cfg) {
  auto m = root.map("routing");
  RoutingConfig& r = cfg.routing;
  {
    auto x = m.map("retries");
    x.integer("max_attempts", r.retries.max_attempts, 1, 100);
    x.integer("base_ms", r.retries.base_ms, 0, 3'600'000);
    x.integer("max_ms", r.retries.max_ms, 0, 3'600'000);
    x.integer("retry_after_max_ms", r.retries.retry_after_max_ms, 0, 3'600'000);
    x.integer("deadline_ms", r.retries.deadline_ms, 0, 86'400'000);
  }
  {
    auto x = m.map("circuit_breaker");
    x.integer("failures", r.circuit_breaker.failures, 1, 1'000'000);
    x.integer("window_s", r.circuit_breaker.window_s, 1, 86'400);
    x.integer("open_s", r.circuit_breaker.open_s, 1, 86'400);
    x.integer("half_open_requests", r.circuit_breaker.half_open_requests, 1, 10'000);
  }
  if (m.has("local_only_data_classes")) {
    r.local_only_data_classes.clear();
    m.str_list("local_only_data_classes", r.local_only_data_classes);
  }
  if (const auto* rules = m.get("rules")) {
    size_t i = 0;
    for (const auto& [node, p] : sequence_items(m.ctx(), rules->value, m.field("rules"), rules->value_pos)) {
      MapReader x(m.ctx(), node, m.field("rules") + "[" + std::to_string(i++) + "]", p);
      RoutingRule rule;
      rule.pos = x.pos();
      {
        auto w = x.map("when");
        w.str("team", rule.when.team);
        w.str("key", rule.when.key);
        w.str("model", rule.when.model);
        w.str("workload", rule.when.workload);
        w.str("data_class", rule.when.data_class);
        int64_t n = 0;
        if (w.integer("min_prompt_tokens", n, 0)) rule.when.min_prompt_tokens = n;
        if (w.integer("max_prompt_tokens", n, 0)) rule.when.max_prompt_tokens = n;
        bool b = false;
        if (w.boolean("tools", b)) rule.when.tools = b;
        w.str_list("keywords", rule.when.keywords);
      }
      if (x.str("use", rule.use)) rule.use_pos = x.get("use")->value_pos;
      else x.ctx().error(x.pos(), x.field("use") + ": required (the alias to route to)");
      r.rules.push_back(std::move(rule));
    }
  }
}

void check_routing(ParseContext& ctx, const Config& cfg) {
  auto aliases = names_of(cfg.models);
  for (const auto& rule : cfg.routing.rules) {
    if (!rule.use.empty() && !cfg.models.count(rule.use))
      ctx.error(rule.use_pos, "routing.rules: '" + rule.use + "' is not a model alias" + did_you_mean_suffix(rule.use, aliases));
  }
}

}  // namespace warden::config::sections
