// Route planning: rules, weighted order, fallback chains, data-class restriction.
#include "warden/router/route.hpp"

#include <algorithm>
#include <set>

#include "warden/router/weighted.hpp"

namespace warden::router {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Text of the last user message: what keyword rules look at (the question being asked
// now, not the whole history or the system prompt).
std::string last_user_text(const api::ChatRequest& req) {
  for (auto it = req.messages.rbegin(); it != req.messages.rend(); ++it) {
    if (it->role != "user") continue;
    std::string text;
    for (const auto& part : it->content)
      if (part.type == api::ContentPart::Type::Text) text += part.text + "\n";
    return text;
  }
  return {};
}

}  // namespace

int64_t estimate_prompt_tokens(const api::ChatRequest& req) {
  int64_t bytes = 0;
  for (const auto& m : req.messages) {
    for (const auto& part : m.content)
      if (part.type == api::ContentPart::Type::Text) bytes += int64_t(part.text.size());
    if (m.reasoning_content) bytes += int64_t(m.reasoning_content->size());
    for (const auto& tc : m.tool_calls) bytes += int64_t(tc.name.size() + tc.arguments.size());
  }
  for (const auto& t : req.tools) bytes += int64_t(t.name.size() + t.description.size() + t.parameters_json.size());
  return (bytes + 3) / 4;
}

bool rule_matches(const config::RuleMatch& when, const policy::RequestContext& ctx, int64_t prompt_tokens) {
  if (!when.team.empty() && when.team != ctx.caller.team) return false;
  if (!when.key.empty() && when.key != ctx.caller.key_id) return false;
  const std::string& alias = ctx.alias.empty() ? ctx.request.model : ctx.alias;
  if (!when.model.empty() && when.model != alias) return false;
  if (!when.workload.empty() && when.workload != ctx.workload) return false;
  if (!when.data_class.empty() && when.data_class != ctx.data_class) return false;
  if (when.min_prompt_tokens && prompt_tokens < *when.min_prompt_tokens) return false;
  if (when.max_prompt_tokens && prompt_tokens > *when.max_prompt_tokens) return false;
  if (when.tools && *when.tools != !ctx.request.tools.empty()) return false;
  if (!when.keywords.empty()) {
    std::string text = lower(last_user_text(ctx.request));
    bool any = std::any_of(when.keywords.begin(), when.keywords.end(),
                           [&](const std::string& k) { return !k.empty() && text.find(lower(k)) != std::string::npos; });
    if (!any) return false;
  }
  return true;
}

std::string sticky_key(const policy::RequestContext& ctx) {
  if (ctx.caller.key_id.empty() && ctx.request.user.empty()) return "req:" + ctx.request_id;
  return ctx.caller.key_id + "\x1e" + ctx.request.user;
}

Result<RoutePlan> plan_route(const config::Config& config, const policy::RequestContext& ctx) {
  RoutePlan plan;
  plan.requested = ctx.alias.empty() ? ctx.request.model : ctx.alias;
  plan.alias = plan.requested;

  const auto& rules = config.routing.rules;
  if (!rules.empty()) {
    int64_t tokens = estimate_prompt_tokens(ctx.request);
    for (size_t i = 0; i < rules.size(); ++i) {
      if (!rule_matches(rules[i].when, ctx, tokens)) continue;
      plan.rule = int(i);
      if (!rules[i].use.empty()) plan.alias = rules[i].use;
      break;
    }
  }

  if (!config.model(plan.alias)) {
    return Error{404, "model_not_found", "The model '" + plan.requested + "' does not exist",
                 "invalid_request_error", "model"};
  }

  const auto& local_classes = config.routing.local_only_data_classes;
  plan.local_only = !ctx.data_class.empty() &&
                    std::find(local_classes.begin(), local_classes.end(), ctx.data_class) != local_classes.end();

  std::string key = sticky_key(ctx);
  std::set<std::string> seen_aliases;
  std::set<std::pair<std::string, std::string>> seen_targets;
  // Breadth of the fallback chain is small; a work list keeps alias order and stops cycles.
  std::vector<std::string> work{plan.alias};
  for (size_t w = 0; w < work.size(); ++w) {
    const std::string alias = work[w];
    if (!seen_aliases.insert(alias).second) continue;
    const config::ModelRoute* route = config.model(alias);
    if (!route) continue;
    for (int idx : target_order(route->targets, key)) {
      const auto& t = route->targets[size_t(idx)];
      if (!seen_targets.insert({t.provider, t.model}).second) continue;
      const config::ProviderConfig* provider = config.provider(t.provider);
      if (plan.local_only && (!provider || provider->type != config::ProviderType::Local)) continue;
      plan.candidates.push_back(Candidate{alias, &t, provider});
    }
    for (const auto& fb : route->fallback) work.push_back(fb);
  }

  if (plan.candidates.empty()) {
    if (plan.local_only) {
      return Error{503, "no_eligible_target",
                   "No local target serves '" + plan.alias + "' for data class '" + ctx.data_class + "'",
                   "server_error", ""};
    }
    return Error{404, "model_not_found", "The model '" + plan.requested + "' has no targets",
                 "invalid_request_error", "model"};
  }
  return plan;
}

}  // namespace warden::router
