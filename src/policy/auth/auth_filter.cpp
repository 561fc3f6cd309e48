#include "warden/policy/auth/auth_filter.hpp"

#include <algorithm>

#include "warden/config/config.hpp"
#include "warden/policy/auth/key_store.hpp"
#include "warden/policy/crypto.hpp"
#include "warden/policy/errors.hpp"
#include "warden/policy/runtime.hpp"

namespace warden::policy {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals_prefix(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

}  // namespace

std::optional<std::string> presented_key(const RequestContext& ctx) {
  if (auto it = ctx.headers.find("authorization"); it != ctx.headers.end()) {
    std::string_view v = trim(it->second);
    if (iequals_prefix(v, "bearer ")) {
      std::string_view k = trim(v.substr(7));
      if (!k.empty()) return std::string(k);
    }
  }
  if (auto it = ctx.headers.find("x-api-key"); it != ctx.headers.end()) {
    std::string_view k = trim(it->second);
    if (!k.empty()) return std::string(k);
  }
  return std::nullopt;
}

Result<Caller> authenticate(const RequestContext& ctx, const std::string& key) {
  if (!ctx.config) return errors::invalid_api_key();
  const std::string digest = sha256_hex(key);
  // Every config key is compared (no early exit) so timing does not tell which matched.
  const config::KeyEntry* found = nullptr;
  for (const auto& entry : ctx.config->keys) {
    std::string want = entry.sha256;
    std::transform(want.begin(), want.end(), want.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (constant_time_equal(digest, want) && !found) found = &entry;
  }
  // Every caller belongs to a team the config defines: a key of a missing team (a typo in
  // `keys create`, a team a reload removed) is refused, never left without restrictions.
  auto of_team = [&](Caller c) -> Result<Caller> {
    if (!ctx.config->team(c.team)) return errors::team_not_configured(c.team);
    return c;
  };
  if (found) return of_team(Caller{found->id, found->team, found->models});
  if (key.rfind("wk-", 0) == 0) {
    auto* store = Runtime::for_config(*ctx.config).keys();
    if (!store) return errors::invalid_api_key();
    std::optional<VirtualKey> vk;
    try {
      vk = store->find_by_hash(digest);
    } catch (const std::exception&) {
      return errors::invalid_api_key();
    }
    if (!vk) return errors::invalid_api_key();
    if (vk->revoked_at != 0) return errors::invalid_api_key("This API key has been revoked.");
    if (!vk->active(unix_now())) return errors::invalid_api_key("This API key has expired.");
    return of_team(Caller{vk->id, vk->team, vk->models});
  }
  return errors::invalid_api_key();
}

std::string hash_user(std::string_view secret, std::string_view user) {
  auto mac = hmac_sha256(secret, user);
  // 16 bytes → 22 chars of [A-Za-z0-9_-]: stable per user, not reversible without the secret.
  return "u_" + base64url(mac.data(), 16);
}

bool model_allowed(const config::Config& cfg, const Caller& caller, const std::string& alias) {
  auto contains = [&](const std::vector<std::string>& v) {
    return std::find(v.begin(), v.end(), alias) != v.end() || std::find(v.begin(), v.end(), "*") != v.end();
  };
  if (!caller.allowed_models.empty() && !contains(caller.allowed_models)) return false;
  if (auto it = cfg.teams.find(caller.team); it != cfg.teams.end()) {
    if (!it->second.models.empty() && !contains(it->second.models)) return false;
  }
  return true;
}

asio::awaitable<FilterStatus> AuthFilter::on_request(RequestContext& ctx) {
  auto key = presented_key(ctx);
  if (!key) {
    ctx.reply = errors::invalid_api_key(
        "Missing API key: send 'Authorization: Bearer <key>' or 'x-api-key'.");
    co_return FilterStatus::Reply;
  }
  auto caller = authenticate(ctx, *key);
  if (!caller) {
    ctx.reply = caller.error();
    co_return FilterStatus::Reply;
  }
  ctx.caller = std::move(caller.value());
  if (!ctx.request.user.empty()) {
    try {
      ctx.request.user = hash_user(Runtime::for_config(*ctx.config).secret(), ctx.request.user);
    } catch (const std::exception&) {
      ctx.request.user.clear();  // never forward the raw user id when it cannot be hashed
    }
  }
  const std::string& alias = ctx.alias.empty() ? ctx.request.model : ctx.alias;
  // Endpoints without a model (GET /v1/models) pass; the alias check applies when one is asked.
  if (!alias.empty() && !model_allowed(*ctx.config, ctx.caller, alias)) {
    ctx.reply = errors::model_not_allowed(alias);
    co_return FilterStatus::Reply;
  }
  co_return FilterStatus::Continue;
}

}  // namespace warden::policy
