#pragma once
// Virtual keys (`warden keys ...`) in state_dir/warden.db. Only sha256(key) is stored;
// the key itself is shown once by create/rotate. Thread-safe (one mutex around the
// connection; lookups are a single indexed SELECT so revocations apply at once).
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace warden::policy::store {
class Database;
}

namespace warden::policy {

struct VirtualKey {
  std::string id;    // "vk_…" — safe to log
  std::string team;
  std::string name;
  std::vector<std::string> models;  // empty = team's list
  int64_t created_at = 0;           // unix seconds
  int64_t expires_at = 0;           // 0 = never
  int64_t revoked_at = 0;           // 0 = active
  std::string rotated_to;           // id of the key that replaced it
  bool active(int64_t now) const { return revoked_at == 0 && (expires_at == 0 || now < expires_at); }
};

struct CreatedKey {
  std::string key;  // "wk-…", shown once
  VirtualKey record;
};

class KeyStore {
 public:
  explicit KeyStore(const std::string& state_dir);  // throws store::DbError
  ~KeyStore();

  CreatedKey create(const std::string& team, const std::string& name,
                    const std::vector<std::string>& models, int64_t expires_at);
  std::vector<VirtualKey> list();
  std::optional<VirtualKey> get(const std::string& id);
  bool revoke(const std::string& id);  // false when unknown or already revoked
  // A new key with the same team/name/models/expiry; the old one is revoked. nullopt if unknown.
  std::optional<CreatedKey> rotate(const std::string& id);
  // By sha256 hex of the presented key (whatever its state; the caller checks active()).
  std::optional<VirtualKey> find_by_hash(const std::string& sha256_hex);

 private:
  std::mutex mu_;
  std::unique_ptr<store::Database> db_;
};

// "2026-12-31" (valid through that UTC day), "30d", "12h", "90m" → unix seconds; nullopt if bad.
std::optional<int64_t> parse_expiry(const std::string& text, int64_t now);

int64_t unix_now();

}  // namespace warden::policy
