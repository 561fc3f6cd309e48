#pragma once
// Caller authentication: the warden key from `Authorization: Bearer` or `x-api-key`,
// matched against config `keys:` (sha256) and virtual keys (state_dir SQLite). Sets
// ctx.caller; refuses unknown keys (401) and aliases the key may not use (403).
#include <optional>
#include <string>
#include <string_view>

#include "warden/common/result.hpp"
#include "warden/policy/filter.hpp"

namespace warden::policy {

// The presented key, or nullopt when neither header carries one.
std::optional<std::string> presented_key(const RequestContext& ctx);

// Resolves the key to a caller (no alias check). Errors are 401 invalid_api_key.
Result<Caller> authenticate(const RequestContext& ctx, const std::string& key);

// Whether `caller` may use `alias` (key list, else team list; empty = all).
bool model_allowed(const config::Config& cfg, const Caller& caller, const std::string& alias);

// The caller's `user` as it leaves warden: "u_" + base64url(HMAC-SHA256(secret, user))[:22].
std::string hash_user(std::string_view secret, std::string_view user);

class AuthFilter final : public Filter {
 public:
  asio::awaitable<FilterStatus> on_request(RequestContext& ctx) override;
};

}  // namespace warden::policy
