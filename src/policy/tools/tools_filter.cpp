#include "warden/policy/tools/tools_filter.hpp"

#include <algorithm>

#include "warden/config/config.hpp"
#include "warden/policy/errors.hpp"

namespace warden::policy {

bool tool_allowed(const config::ToolRules& rules, const std::string& name) {
  if (std::find(rules.deny.begin(), rules.deny.end(), name) != rules.deny.end()) return false;
  if (rules.allow.empty()) return true;
  return std::find(rules.allow.begin(), rules.allow.end(), name) != rules.allow.end() ||
         std::find(rules.allow.begin(), rules.allow.end(), "*") != rules.allow.end();
}

asio::awaitable<FilterStatus> ToolsFilter::on_request(RequestContext& ctx) {
  const auto* team = ctx.config->team(ctx.caller.team);
  if (!team || (team->tools.allow.empty() && team->tools.deny.empty())) co_return FilterStatus::Continue;
  rules_ = &team->tools;  // the snapshot is pinned by ctx.config for the whole request
  auto& tools = ctx.request.tools;
  std::vector<std::string> refused;
  for (const auto& t : tools)
    if (!tool_allowed(*rules_, t.name)) refused.push_back(t.name);
  if (refused.empty()) co_return FilterStatus::Continue;
  if (rules_->on_violation == "strip") {
    tools.erase(std::remove_if(tools.begin(), tools.end(), [&](const api::ToolDefinition& t) {
                  return !tool_allowed(*rules_, t.name);
                }),
                tools.end());
    ctx.decisions["tools.stripped"] = static_cast<int64_t>(refused.size());
    // A tool_choice naming a stripped tool (or any choice when none is left) would be
    // rejected upstream: fall back to the default.
    bool names_stripped = std::any_of(refused.begin(), refused.end(), [&](const std::string& n) {
      return ctx.request.tool_choice_json.find("\"" + n + "\"") != std::string::npos;
    });
    if (tools.empty() || names_stripped) ctx.request.tool_choice_json.clear();
    if (tools.empty()) ctx.request.parallel_tool_calls.reset();
    co_return FilterStatus::Continue;
  }
  ctx.decisions["tools.rejected"] = 1;
  ctx.reply = errors::tool_not_allowed(refused.front());
  co_return FilterStatus::Reply;
}

void ToolsFilter::on_event(RequestContext& ctx, api::StreamEvent& ev) {
  if (!rules_ || stopped_ || ev.type != api::StreamEvent::Type::ToolCall) return;
  // The name arrives on the first fragment of each call.
  if (ev.tool_call.name.empty() || tool_allowed(*rules_, ev.tool_call.name)) return;
  stopped_ = true;
  ctx.decisions["tools.blocked_call"] = 1;
  std::string name = ev.tool_call.name;
  api::StreamEvent err;
  err.type = api::StreamEvent::Type::Error;
  err.choice = ev.choice;
  err.error = errors::tool_not_allowed(name);
  err.error.message = "The model called tool '" + name + "', which is not allowed for this key.";
  ev = std::move(err);
}

}  // namespace warden::policy
