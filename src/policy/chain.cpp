#include "warden/policy/chain.hpp"

#include "warden/policy/auth/auth_filter.hpp"

namespace warden::policy {

// Order matters: identity first (everything after keys on the caller), then cheap local
// refusals, then what reserves shared resources (rate, budget), then content rules.
std::vector<std::unique_ptr<Filter>> make_filters(const RequestContext& ctx) {
  std::vector<std::unique_ptr<Filter>> chain;
  chain.push_back(std::make_unique<AuthFilter>());
  return chain;
}

}  // namespace warden::policy
