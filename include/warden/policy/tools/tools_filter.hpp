#pragma once
// Per-team tool rules (`teams.<t>.tools: {allow, deny, on_violation}`): a request
// declaring a tool outside the allowlist (or on the denylist) is refused with 400
// tool_not_allowed, or those tools are stripped (on_violation: strip). A tool call in
// the answer to a tool not allowed stops the answer with the same error, streams included.
#include <map>
#include <set>
#include <string>

#include "warden/policy/filter.hpp"

namespace warden::config {
struct ToolRules;
}

namespace warden::policy {

bool tool_allowed(const config::ToolRules& rules, const std::string& name);

class ToolsFilter final : public Filter {
 public:
  asio::awaitable<FilterStatus> on_request(RequestContext& ctx) override;
  void on_event(RequestContext& ctx, api::StreamEvent& ev) override;

 private:
  const config::ToolRules* rules_ = nullptr;
  bool stopped_ = false;
};

}  // namespace warden::policy
