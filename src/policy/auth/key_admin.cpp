#include "warden/policy/auth/key_admin.hpp"

#include <ctime>

#include "warden/common/json_quote.hpp"
#include "warden/config/config.hpp"

namespace warden::policy {

std::optional<std::string> validate_key_spec(const config::Config& cfg, const KeySpec& spec, int64_t now) {
  if (!cfg.teams.count(spec.team)) {
    std::string where = cfg.source_file.empty() ? std::string("the config") : cfg.source_file;
    return "team '" + spec.team + "' is not defined in " + where;
  }
  for (const auto& m : spec.models)
    if (m != "*" && !cfg.models.count(m)) return "'" + m + "' is not a model alias";
  if (spec.expires_at != 0 && spec.expires_at <= now) return "the expiry is in the past";
  return std::nullopt;
}

std::vector<std::string> split_models(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    std::string m = s.substr(start, comma - start);
    while (!m.empty() && m.front() == ' ') m.erase(m.begin());
    while (!m.empty() && m.back() == ' ') m.pop_back();
    if (!m.empty()) out.push_back(m);
    start = comma + 1;
  }
  return out;
}

std::string key_status(const VirtualKey& k, int64_t now) {
  if (k.revoked_at) return k.rotated_to.empty() ? "revoked" : "rotated";
  if (k.expires_at && now >= k.expires_at) return "expired";
  return "active";
}

std::string key_time(int64_t t) {
  if (t == 0) return "-";
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string key_json(const VirtualKey& k, int64_t now, const std::string& secret_key) {
  std::string s = "{\"id\":" + json_quoted(k.id) + ",\"team\":" + json_quoted(k.team) + ",\"name\":" + json_quoted(k.name) +
                  ",\"models\":[";
  for (size_t i = 0; i < k.models.size(); ++i) s += (i ? "," : "") + json_quoted(k.models[i]);
  s += "],\"created_at\":" + json_quoted(key_time(k.created_at)) +
       ",\"expires_at\":" + (k.expires_at ? json_quoted(key_time(k.expires_at)) : "null") +
       ",\"status\":" + json_quoted(key_status(k, now));
  if (!k.rotated_to.empty()) s += ",\"rotated_to\":" + json_quoted(k.rotated_to);
  if (!secret_key.empty()) s += ",\"key\":" + json_quoted(secret_key);
  return s + "}";
}

}  // namespace warden::policy
