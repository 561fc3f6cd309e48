#include "warden/policy/auth/key_store.hpp"

#include <chrono>
#include <ctime>

#include "warden/policy/crypto.hpp"
#include "warden/policy/store/sqlite_db.hpp"

namespace warden::policy {

namespace {

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) {
    if (!s.empty()) s += ',';
    s += x;
  }
  return s;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    if (comma > start) out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

constexpr const char* kColumns =
    "id, team, name, models, created_at, expires_at, revoked_at, rotated_to";

VirtualKey row(store::Statement& st) {
  VirtualKey k;
  k.id = st.text(0);
  k.team = st.text(1);
  k.name = st.text(2);
  k.models = split(st.text(3));
  k.created_at = st.integer(4);
  k.expires_at = st.integer(5);
  k.revoked_at = st.integer(6);
  k.rotated_to = st.text(7);
  return k;
}

std::string new_key() {
  auto bytes = random_bytes(24);
  return "wk-" + base64url(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

std::string new_id() {
  auto bytes = random_bytes(6);
  return "vk_" + to_hex(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

}  // namespace

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::optional<int64_t> parse_expiry(const std::string& text, int64_t now) {
  if (text.empty()) return std::nullopt;
  char unit = text.back();
  if (unit == 'd' || unit == 'h' || unit == 'm') {
    std::string digits = text.substr(0, text.size() - 1);
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    int64_t n = std::stoll(digits);
    int64_t scale = unit == 'd' ? 86400 : unit == 'h' ? 3600 : 60;
    return now + n * scale;
  }
  int y = 0, mo = 0, d = 0;
  char tail = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d%c", &y, &mo, &d, &tail) != 3 || mo < 1 || mo > 12 ||
      d < 1 || d > 31)
    return std::nullopt;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d + 1;  // valid through the named day: expires at the next midnight UTC
  return static_cast<int64_t>(timegm(&tm));
}

KeyStore::KeyStore(const std::string& state_dir)
    : db_(std::make_unique<store::Database>(store::database_path(state_dir))) {
  store::ensure_schema(*db_);
}

KeyStore::~KeyStore() = default;

CreatedKey KeyStore::create(const std::string& team, const std::string& name,
                            const std::vector<std::string>& models, int64_t expires_at) {
  std::lock_guard lock(mu_);
  CreatedKey out;
  out.key = new_key();
  out.record = VirtualKey{new_id(), team, name, models, unix_now(), expires_at, 0, ""};
  auto st = db_->prepare(
      "INSERT INTO virtual_keys (id, hash, team, name, models, created_at, expires_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?)");
  st.bind(1, out.record.id)
      .bind(2, sha256_hex(out.key))
      .bind(3, team)
      .bind(4, name)
      .bind(5, join(models))
      .bind(6, out.record.created_at)
      .bind(7, expires_at);
  st.step();
  return out;
}

std::vector<VirtualKey> KeyStore::list() {
  std::lock_guard lock(mu_);
  auto st = db_->prepare(std::string("SELECT ") + kColumns + " FROM virtual_keys ORDER BY created_at, id");
  std::vector<VirtualKey> out;
  while (st.step()) out.push_back(row(st));
  return out;
}

std::optional<VirtualKey> KeyStore::get(const std::string& id) {
  std::lock_guard lock(mu_);
  auto st = db_->prepare(std::string("SELECT ") + kColumns + " FROM virtual_keys WHERE id = ?");
  st.bind(1, id);
  if (!st.step()) return std::nullopt;
  return row(st);
}

bool KeyStore::revoke(const std::string& id) {
  std::lock_guard lock(mu_);
  auto st = db_->prepare("UPDATE virtual_keys SET revoked_at = ? WHERE id = ? AND revoked_at = 0");
  st.bind(1, unix_now()).bind(2, id);
  st.step();
  return db_->changes() > 0;
}

std::optional<CreatedKey> KeyStore::rotate(const std::string& id) {
  auto old = get(id);
  if (!old || old->revoked_at != 0) return std::nullopt;
  std::lock_guard lock(mu_);
  db_->exec("BEGIN IMMEDIATE");
  try {
    CreatedKey out;
    out.key = new_key();
    out.record = VirtualKey{new_id(), old->team, old->name, old->models, unix_now(), old->expires_at, 0, ""};
    auto ins = db_->prepare(
        "INSERT INTO virtual_keys (id, hash, team, name, models, created_at, expires_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)");
    ins.bind(1, out.record.id)
        .bind(2, sha256_hex(out.key))
        .bind(3, old->team)
        .bind(4, old->name)
        .bind(5, join(old->models))
        .bind(6, out.record.created_at)
        .bind(7, old->expires_at);
    ins.step();
    auto upd = db_->prepare("UPDATE virtual_keys SET revoked_at = ?, rotated_to = ? WHERE id = ?");
    upd.bind(1, unix_now()).bind(2, out.record.id).bind(3, id);
    upd.step();
    db_->exec("COMMIT");
    return out;
  } catch (...) {
    db_->exec("ROLLBACK");
    throw;
  }
}

std::optional<VirtualKey> KeyStore::find_by_hash(const std::string& sha256_hex) {
  std::lock_guard lock(mu_);
  auto st = db_->prepare(std::string("SELECT ") + kColumns + " FROM virtual_keys WHERE hash = ?");
  st.bind(1, sha256_hex);
  if (!st.step()) return std::nullopt;
  return row(st);
}

}  // namespace warden::policy
