// `warden keys create|list|revoke|rotate`: virtual keys in state_dir/warden.db.
// The key is printed once (create/rotate); only its sha256 is stored.
#include <cstdio>
#include <ctime>
#include <string>

#include "warden/cli/commands.hpp"
#include "warden/common/cli_args.hpp"
#include "warden/config/config.hpp"
#include "warden/policy/auth/key_store.hpp"

namespace warden::cli {

namespace {

constexpr const char* kUsage =
    "usage: warden keys create --team T --name N [--models a,b] [--expires 2026-12-31|30d] [--json]\n"
    "       warden keys list [--team T] [--json]\n"
    "       warden keys revoke ID\n"
    "       warden keys rotate ID [--json]\n"
    "state: --config FILE (its state_dir) or --state-dir DIR (default ./var)\n";

std::string json_str(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

std::string date(int64_t t) {
  if (t == 0) return "-";
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
  return s;
}

std::string status_of(const policy::VirtualKey& k, int64_t now) {
  if (k.revoked_at) return k.rotated_to.empty() ? "revoked" : "rotated";
  if (k.expires_at && now >= k.expires_at) return "expired";
  return "active";
}

std::string key_json(const policy::VirtualKey& k, int64_t now, const std::string& secret_key = "") {
  std::string s = "{\"id\":" + json_str(k.id) + ",\"team\":" + json_str(k.team) + ",\"name\":" + json_str(k.name) +
                  ",\"models\":[";
  for (size_t i = 0; i < k.models.size(); ++i) s += (i ? "," : "") + json_str(k.models[i]);
  s += "],\"created_at\":" + json_str(date(k.created_at)) +
       ",\"expires_at\":" + (k.expires_at ? json_str(date(k.expires_at)) : "null") +
       ",\"status\":" + json_str(status_of(k, now));
  if (!k.rotated_to.empty()) s += ",\"rotated_to\":" + json_str(k.rotated_to);
  if (!secret_key.empty()) s += ",\"key\":" + json_str(secret_key);
  return s + "}";
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

}  // namespace

int keys(const Args& raw_args) {
  Args args;
  for (const auto& a : raw_args) args.push_back(a == "-c" ? "--config" : a);
  try {
    CliArgs cli(args, {"team", "name", "models", "expires", "config", "state-dir"}, {"json", "help"});
    const auto& pos = cli.positionals();
    if (cli.flag("help") || pos.empty()) {
      std::fputs(kUsage, pos.empty() && !cli.flag("help") ? stderr : stdout);
      return pos.empty() && !cli.flag("help") ? 2 : 0;
    }
    std::string state_dir = cli.get_or("state-dir", "./var");
    std::shared_ptr<const config::Config> cfg;
    if (auto file = cli.get("config")) {
      auto loaded = config::load_config(*file);
      if (!loaded.ok()) {
        for (const auto& d : loaded.diagnostics) std::fprintf(stderr, "%s\n", d.to_string().c_str());
        return 1;
      }
      cfg = loaded.config;
      if (!cli.get("state-dir")) state_dir = cfg->state_dir;
    }
    const std::string& verb = pos[0];
    const bool json = cli.flag("json");
    const int64_t now = policy::unix_now();
    policy::KeyStore store(state_dir);

    if (verb == "create") {
      auto team = cli.get("team");
      auto name = cli.get("name");
      if (!team || !name || pos.size() != 1) {
        std::fputs(kUsage, stderr);
        return 2;
      }
      auto models = split_models(cli.get_or("models", ""));
      if (cfg) {
        if (!cfg->teams.count(*team)) {
          std::fprintf(stderr, "warden keys: team '%s' is not defined in %s\n", team->c_str(), cfg->source_file.c_str());
          return 1;
        }
        for (const auto& m : models)
          if (m != "*" && !cfg->models.count(m)) {
            std::fprintf(stderr, "warden keys: '%s' is not a model alias\n", m.c_str());
            return 1;
          }
      }
      int64_t expires = 0;
      if (auto e = cli.get("expires")) {
        auto parsed = policy::parse_expiry(*e, now);
        if (!parsed) {
          std::fprintf(stderr, "warden keys: --expires: expected YYYY-MM-DD or a duration like 30d, 12h\n");
          return 2;
        }
        expires = *parsed;
      }
      auto created = store.create(*team, *name, models, expires);
      if (json) {
        std::printf("%s\n", key_json(created.record, now, created.key).c_str());
      } else {
        std::printf("%s\n", created.key.c_str());
        std::fprintf(stderr, "created %s for team %s (the key is shown only once)\n", created.record.id.c_str(),
                     team->c_str());
      }
      return 0;
    }
    if (verb == "list") {
      auto all = store.list();
      auto team = cli.get("team");
      if (json) std::printf("[");
      else std::printf("%-16s %-16s %-20s %-8s %-21s %-21s %s\n", "ID", "TEAM", "NAME", "STATUS", "CREATED", "EXPIRES", "MODELS");
      bool first = true;
      for (const auto& k : all) {
        if (team && k.team != *team) continue;
        if (json) {
          std::printf("%s%s", first ? "" : ",", key_json(k, now).c_str());
        } else {
          std::printf("%-16s %-16s %-20s %-8s %-21s %-21s %s\n", k.id.c_str(), k.team.c_str(), k.name.c_str(),
                      status_of(k, now).c_str(), date(k.created_at).c_str(), date(k.expires_at).c_str(),
                      k.models.empty() ? "(team)" : join(k.models).c_str());
        }
        first = false;
      }
      if (json) std::printf("]\n");
      return 0;
    }
    if (verb == "revoke" || verb == "rotate") {
      if (pos.size() != 2) {
        std::fputs(kUsage, stderr);
        return 2;
      }
      const std::string& id = pos[1];
      if (verb == "revoke") {
        if (!store.revoke(id)) {
          std::fprintf(stderr, "warden keys: no active key '%s'\n", id.c_str());
          return 1;
        }
        std::printf("revoked %s\n", id.c_str());
        return 0;
      }
      auto rotated = store.rotate(id);
      if (!rotated) {
        std::fprintf(stderr, "warden keys: no active key '%s'\n", id.c_str());
        return 1;
      }
      if (json) {
        std::printf("%s\n", key_json(rotated->record, now, rotated->key).c_str());
      } else {
        std::printf("%s\n", rotated->key.c_str());
        std::fprintf(stderr, "rotated %s -> %s (the old key no longer works; the new key is shown only once)\n",
                     id.c_str(), rotated->record.id.c_str());
      }
      return 0;
    }
    std::fprintf(stderr, "warden keys: unknown action '%s'\n%s", verb.c_str(), kUsage);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "warden keys: %s\n", e.what());
    return 1;
  }
}

}  // namespace warden::cli
