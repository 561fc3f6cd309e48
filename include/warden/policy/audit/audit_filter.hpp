#pragma once
// Writes one audit record per request from on_complete (identity, alias, target, status,
// tokens, cost, policy decisions). Never the prompt. The write itself is queued to the
// audit log's own thread.
#include "warden/policy/filter.hpp"

namespace warden::policy {

class AuditFilter final : public Filter {
 public:
  asio::awaitable<FilterStatus> on_request(RequestContext& ctx) override { co_return FilterStatus::Continue; }
  void on_complete(RequestContext& ctx) override;
};

}  // namespace warden::policy
