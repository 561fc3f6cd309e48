// `warden keys create|list|revoke|rotate`: virtual keys in state_dir/warden.db.
// The key is printed once (create/rotate); only its sha256 is stored.
#include <cstdio>
#include <ctime>
#include <string>

#include "warden/cli/commands.hpp"
#include "warden/common/cli_args.hpp"
#include "warden/config/config.hpp"
#include "warden/policy/auth/key_admin.hpp"
#include "warden/policy/auth/key_store.hpp"

namespace warden::cli {

namespace {

constexpr const char* kUsage =
    "usage: warden keys create --team T --name N [--models a,b] [--expires 2026-12-31|30d] [--json]\n"
    "       (create needs --config FILE: the team must be defined there)\n"
    "       warden keys list [--team T] [--json]\n"
    "       warden keys revoke ID\n"
    "       warden keys rotate ID [--json]\n"
    "state: --config FILE (its state_dir) or --state-dir DIR (default ./var)\n";

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
  return s;
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
      policy::KeySpec spec{*team, *name, policy::split_models(cli.get_or("models", "")), 0};
      if (auto e = cli.get("expires")) {
        auto parsed = policy::parse_expiry(*e, now);
        if (!parsed) {
          std::fprintf(stderr, "warden keys: --expires: expected YYYY-MM-DD or a duration like 30d, 12h\n");
          return 2;
        }
        spec.expires_at = *parsed;
      }
      // The same checks as POST /admin/keys. The team must exist in the config the server
      // runs (a key of an unknown team would be refused at every request), so create
      // needs the config.
      if (!cfg) {
        std::fprintf(stderr, "warden keys create: --config FILE is required (the team must be defined there)\n");
        return 2;
      }
      if (auto why = policy::validate_key_spec(*cfg, spec, now)) {
        std::fprintf(stderr, "warden keys: %s\n", why->c_str());
        return 1;
      }
      auto created = store.create(spec.team, spec.name, spec.models, spec.expires_at);
      if (json) {
        std::printf("%s\n", policy::key_json(created.record, now, created.key).c_str());
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
          std::printf("%s%s", first ? "" : ",", policy::key_json(k, now).c_str());
        } else {
          std::printf("%-16s %-16s %-20s %-8s %-21s %-21s %s\n", k.id.c_str(), k.team.c_str(), k.name.c_str(),
                      policy::key_status(k, now).c_str(), policy::key_time(k.created_at).c_str(), policy::key_time(k.expires_at).c_str(),
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
        std::printf("%s\n", policy::key_json(rotated->record, now, rotated->key).c_str());
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
