// /admin/keys: virtual keys over the admin API, with the same rules as `warden keys`
// (policy/auth/key_admin.hpp). Keys live in state_dir/warden.db (KeyStore); the auth
// filter looks each presented key up there on every request, so a revocation applies to
// the very next request. Config keys (`keys:` in YAML) are listed read-only.
#include <simdjson.h>

#include <algorithm>

#include "admin_support.hpp"
#include "warden/common/url_decode.hpp"
#include "warden/policy/auth/key_admin.hpp"
#include "warden/policy/auth/key_store.hpp"

namespace warden::policy::admin {

namespace {

constexpr std::string_view kPrefix = "/admin/keys/";
constexpr size_t kMaxName = 200;

// The per-key rate limits that apply to a key of `team` (teams.X.key_rate_limits).
config::RateLimits key_limits(const config::Config& cfg, const std::string& team) {
  const auto* t = cfg.team(team);
  return t ? t->key_rate_limits : config::RateLimits{};
}

// key_json plus what the admin view adds: where the key is managed, when it was revoked and
// the per-key limits of its team.
std::string store_key_view(const config::Config& cfg, const VirtualKey& k, int64_t now,
                           const std::string& secret_key = "") {
  std::string s = key_json(k, now, secret_key);
  s.pop_back();
  s += R"(,"source":"store","revoked_at":)";
  if (k.revoked_at) append_json_quoted(s, key_time(k.revoked_at));
  else s += "null";
  s += R"(,"rate_limits":)";
  append_limits(s, key_limits(cfg, k.team));
  return s + '}';
}

std::string config_key_view(const config::Config& cfg, const config::KeyEntry& k) {
  std::string s = R"({"id":)";
  append_json_quoted(s, k.id);
  s += R"(,"team":)";
  append_json_quoted(s, k.team);
  s += R"(,"name":null,"models":)";
  append_string_array(s, k.models);
  s += R"(,"created_at":null,"expires_at":null,"status":"active","source":"config","revoked_at":null,"rate_limits":)";
  append_limits(s, key_limits(cfg, k.team));
  return s + '}';
}

const config::KeyEntry* config_key(const config::Config& cfg, std::string_view id) {
  for (const auto& k : cfg.keys)
    if (k.id == id) return &k;
  return nullptr;
}

KeyStore* store_of(const config::Config& cfg) { return Runtime::for_config(cfg).keys(); }

// A whole answer, built without awaiting (the key store is synchronous and may throw;
// co_await is not allowed in a catch handler), then sent once.
struct Answer {
  int status = 200;
  std::string body;
  std::string location;  // set on 201
  std::string error_code;
};

Answer ok(int status, std::string body, std::string location = "") {
  return Answer{status, std::move(body), std::move(location), ""};
}
Answer fail(int status, std::string code, const std::string& message) {
  return Answer{status, error_json(status, code, message), "", std::move(code)};
}
Answer store_unavailable() {
  return fail(503, "key_store_unavailable", "The key store (state_dir/warden.db) is unavailable.");
}

asio::awaitable<void> send(server::Exchange& ex, Answer a) {
  if (!a.error_code.empty()) ex.access_log().error_code = a.error_code;
  if (!a.location.empty()) {
    ex.add_header("cache-control", "no-store");  // the only answers that carry a key
    ex.add_header("location", std::move(a.location));
  }
  co_await ex.respond(a.status, "application/json", std::move(a.body));
}

// POST /admin/keys body → KeySpec, or the 400 message.
std::variant<KeySpec, std::string> parse_create(const std::string& body, int64_t now) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (body.empty()) return std::string("the body must be a JSON object: {\"team\", \"name\", \"models\"?, \"expires\"?}");
  if (parser.parse(body).get(root) != simdjson::SUCCESS) return std::string("the body is not valid JSON");
  simdjson::dom::object obj;
  if (root.get(obj) != simdjson::SUCCESS) return std::string("the body must be a JSON object");
  KeySpec spec;
  bool has_team = false, has_name = false;
  for (auto field : obj) {
    const std::string_view key = field.key;
    if (key == "team" || key == "name") {
      std::string_view v;
      if (field.value.get(v) != simdjson::SUCCESS || v.empty())
        return "'" + std::string(key) + "' must be a non-empty string";
      if (v.size() > kMaxName) return "'" + std::string(key) + "' is longer than " + std::to_string(kMaxName) + " bytes";
      (key == "team" ? spec.team : spec.name) = std::string(v);
      (key == "team" ? has_team : has_name) = true;
    } else if (key == "models") {
      // ["a","b"] or the CLI's "a,b".
      std::string_view list;
      simdjson::dom::array arr;
      if (field.value.get(list) == simdjson::SUCCESS) {
        spec.models = split_models(std::string(list));
      } else if (field.value.get(arr) == simdjson::SUCCESS) {
        for (auto item : arr) {
          std::string_view m;
          if (item.get(m) != simdjson::SUCCESS || m.empty()) return std::string("'models' must list non-empty strings");
          spec.models.emplace_back(m);
        }
      } else if (!field.value.is_null()) {
        return std::string("'models' must be an array of model aliases");
      }
    } else if (key == "expires") {
      if (field.value.is_null()) continue;
      std::string_view v;
      std::optional<int64_t> parsed;
      if (field.value.get(v) == simdjson::SUCCESS) parsed = parse_expiry(std::string(v), now);
      if (!parsed) return std::string("'expires' must be YYYY-MM-DD or a duration like 30d, 12h, 90m");
      spec.expires_at = *parsed;
    } else {
      return "unknown field '" + std::string(key) + "' (expected team, name, models, expires)";
    }
  }
  if (!has_team) return std::string("'team' is required");
  if (!has_name) return std::string("'name' is required");
  return spec;
}

Answer list_answer(const config::Config& cfg, std::string_view query) {
  KeyStore* store = store_of(cfg);
  if (!store) return store_unavailable();
  const auto team = query_param(query, "team");
  std::vector<VirtualKey> all;
  try {
    all = store->list();
  } catch (const std::exception& e) {
    spdlog::error("admin: listing keys failed: {}", e.what());
    return fail(500, "key_store_error", "Reading the key store failed.");
  }
  const int64_t now = unix_now();
  std::string out = R"({"keys":[)";
  bool first = true;
  for (const auto& k : cfg.keys) {
    if (team && k.team != *team) continue;
    if (!first) out += ',';
    first = false;
    out += config_key_view(cfg, k);
  }
  for (const auto& k : all) {
    if (team && k.team != *team) continue;
    if (!first) out += ',';
    first = false;
    out += store_key_view(cfg, k, now);
  }
  out += "]}";
  return ok(200, std::move(out));
}

// Audited: every outcome of a create request (the body itself is never recorded).
Answer create_answer(const config::Config& cfg, const server::Exchange& ex) {
  const int64_t now = unix_now();
  auto parsed = parse_create(ex.body(), now);
  if (auto* why = std::get_if<std::string>(&parsed)) {
    audit_admin(cfg, ex, "keys.create", "", "", 400);
    return fail(400, "invalid_request", *why);
  }
  KeySpec spec = std::get<KeySpec>(std::move(parsed));
  if (auto why = validate_key_spec(cfg, spec, now)) {
    audit_admin(cfg, ex, "keys.create", "", spec.team, 400);
    return fail(400, "invalid_request", *why);
  }
  KeyStore* store = store_of(cfg);
  if (!store) return store_unavailable();
  try {
    CreatedKey created = store->create(spec.team, spec.name, spec.models, spec.expires_at);
    audit_admin(cfg, ex, "keys.create", created.record.id, spec.team, 201);
    spdlog::info("admin: created key {} for team {}", created.record.id, spec.team);
    return ok(201, store_key_view(cfg, created.record, now, created.key), std::string(kPrefix) + created.record.id);
  } catch (const std::exception& e) {
    spdlog::error("admin: creating a key failed: {}", e.what());
    audit_admin(cfg, ex, "keys.create", "", spec.team, 500);
    return fail(500, "key_store_error", "Writing the key store failed.");
  }
}

// GET|DELETE /admin/keys/{id}, POST /admin/keys/{id}/rotate; the mutations are audited.
Answer key_answer(const config::Config& cfg, const server::Exchange& ex) {
  std::string_view rest = ex.path().substr(kPrefix.size());
  std::string_view action;
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    action = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
  }
  const std::string method(ex.method());
  auto id = percent_decode(rest);
  if (!id || id->empty() || (!action.empty() && action != "rotate"))
    return fail(404, "not_found", "Invalid URL (" + method + " " + std::string(ex.path()) + ")");
  const bool rotate = action == "rotate";
  if (rotate != (method == "POST"))
    return fail(405, "method_not_allowed", "Method " + method + " is not allowed for " + std::string(ex.path()));

  KeyStore* store = store_of(cfg);
  if (!store) return store_unavailable();
  const int64_t now = unix_now();
  const bool get = method == "GET";
  const char* audit_action = method == "DELETE" ? "keys.revoke" : "keys.rotate";
  try {
    auto existing = store->get(*id);
    if (!existing) {
      const auto* ck = config_key(cfg, *id);
      if (ck && get) return ok(200, config_key_view(cfg, *ck));
      if (ck) {
        audit_admin(cfg, ex, audit_action, *id, ck->team, 409);
        return fail(409, "config_managed_key", "Key '" + *id + "' is defined in the config file; change it there.");
      }
      if (!get) audit_admin(cfg, ex, audit_action, *id, "", 404);
      return fail(404, "key_not_found", "No key with id '" + *id + "'.");
    }
    if (get) return ok(200, store_key_view(cfg, *existing, now));
    if (existing->revoked_at != 0) {
      audit_admin(cfg, ex, audit_action, *id, existing->team, 409);
      return fail(409, "key_not_active", "Key '" + *id + "' is already " + key_status(*existing, now) + ".");
    }
    if (method == "DELETE") {
      // A concurrent revoke may win the race; either way the key is revoked now.
      store->revoke(*id);
      auto after = store->get(*id);
      audit_admin(cfg, ex, audit_action, *id, existing->team, 200);
      spdlog::info("admin: revoked key {}", *id);
      return ok(200, store_key_view(cfg, after ? *after : *existing, now));
    }
    auto rotated = store->rotate(*id);
    if (!rotated) {
      audit_admin(cfg, ex, audit_action, *id, existing->team, 409);
      return fail(409, "key_not_active", "Key '" + *id + "' is no longer active.");
    }
    audit_admin(cfg, ex, audit_action, *id, existing->team, 201);
    spdlog::info("admin: rotated key {} -> {}", *id, rotated->record.id);
    std::string body = store_key_view(cfg, rotated->record, now, rotated->key);
    body.pop_back();
    body += R"(,"rotated_from":)";
    append_json_quoted(body, *id);
    body += '}';
    return ok(201, std::move(body), std::string(kPrefix) + rotated->record.id);
  } catch (const std::exception& e) {
    spdlog::error("admin: key store error: {}", e.what());
    if (!get) audit_admin(cfg, ex, audit_action, *id, "", 500);
    return fail(500, "key_store_error", "The key store failed.");
  }
}

asio::awaitable<void> list_keys(server::Exchange& ex, std::shared_ptr<const config::Config> cfg) {
  co_await send(ex, list_answer(*cfg, ex.query()));
}
asio::awaitable<void> create_key(server::Exchange& ex, std::shared_ptr<const config::Config> cfg) {
  co_await send(ex, create_answer(*cfg, ex));
}
asio::awaitable<void> key_by_id(server::Exchange& ex, std::shared_ptr<const config::Config> cfg) {
  co_await send(ex, key_answer(*cfg, ex));
}

}  // namespace

void register_keys(server::EndpointTable& admin) {
  admin.add("GET", "/admin/keys", list_keys);
  admin.add("POST", "/admin/keys", create_key);
  for (const char* method : {"GET", "DELETE", "POST"}) admin.add_prefix(method, std::string(kPrefix), key_by_id);
}

}  // namespace warden::policy::admin
