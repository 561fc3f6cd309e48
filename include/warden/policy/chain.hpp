#pragma once
// Builds the per-request filter chain from the pinned config snapshot, in order:
// auth → limits → rate limits → budget → DLP → guardrails → tools → cache (as they exist).
#include <memory>
#include <vector>

#include "warden/policy/filter.hpp"

namespace warden::policy {

std::vector<std::unique_ptr<Filter>> make_filters(const RequestContext& ctx);

}  // namespace warden::policy
