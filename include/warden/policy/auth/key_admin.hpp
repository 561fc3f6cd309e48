#pragma once
// What `warden keys` and the admin API (/admin/keys) share about virtual keys, so both
// accept the same requests and show the same record: validation of a new key against the
// config, its status, and its JSON view (never the hash; the key itself only once).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "warden/policy/auth/key_store.hpp"

namespace warden::config {
struct Config;
}

namespace warden::policy {

// A create request after parsing: what KeyStore::create takes.
struct KeySpec {
  std::string team;
  std::string name;
  std::vector<std::string> models;  // aliases or "*"; empty = the team's list
  int64_t expires_at = 0;           // 0 = never
};

// Why `spec` cannot become a key under `cfg` (team not configured, a model that is not an
// alias, expiry in the past), or nullopt when it can. The message names the bad value.
std::optional<std::string> validate_key_spec(const config::Config& cfg, const KeySpec& spec, int64_t now);

// "a, b,c" → {"a","b","c"} (blanks trimmed, empties dropped).
std::vector<std::string> split_models(const std::string& list);

// "active" | "revoked" | "rotated" | "expired".
std::string key_status(const VirtualKey& k, int64_t now);

// "2026-11-23T10:00:00Z"; "-" for 0.
std::string key_time(int64_t unix_seconds);

// {"id","team","name","models","created_at","expires_at","status"[,"rotated_to"][,"key"]}.
// `secret_key` non-empty only on the answer that creates it.
std::string key_json(const VirtualKey& k, int64_t now, const std::string& secret_key = "");

}  // namespace warden::policy
