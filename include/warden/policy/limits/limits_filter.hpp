#pragma once
// Per-team request-size rules: prompt size limit and the `max_tokens` cap (clamp or
// reject, per `teams.<t>.max_tokens_mode`).
#include "warden/policy/filter.hpp"

namespace warden::policy {

class LimitsFilter final : public Filter {
 public:
  asio::awaitable<FilterStatus> on_request(RequestContext& ctx) override;
};

}  // namespace warden::policy
