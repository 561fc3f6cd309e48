#pragma once
// Response cache as the last policy filter (DESIGN §1): a hit answers locally through
// RequestContext::local_answer (replayed as events, so streams get SSE) and costs nothing;
// a miss records the answer as it passes through on_event and stores it in on_complete
// when the request succeeded. Adds `x-warden-cache: hit|miss` (or `bypass`).
#include <optional>
#include <string>

#include "warden/policy/cache/response_cache.hpp"
#include "warden/policy/filter.hpp"

namespace warden::policy {

class CacheFilter final : public Filter {
 public:
  explicit CacheFilter(cache::ResponseCache& store = cache::response_cache()) : store_(store) {}
  asio::awaitable<FilterStatus> on_request(RequestContext& ctx) override;
  void on_event(RequestContext& ctx, api::StreamEvent& ev) override;
  void on_complete(RequestContext& ctx) override;

  // Why a request is not cacheable ("" when it is). Exposed for tests and docs.
  static std::string bypass_reason(const RequestContext& ctx);

 private:
  cache::ResponseCache& store_;
  std::string key_;       // set on a miss that may be stored
  bool recording_ = false;
  bool hit_ = false;
  cache::Answer answer_;
};

}  // namespace warden::policy
