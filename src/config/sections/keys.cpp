// `keys:` section: config-managed caller keys (GitOps). Only hashes are kept in memory.
#include <set>

#include "sections.hpp"
#include "warden/config/digest.hpp"

namespace warden::config::sections {

void parse_keys(MapReader& root, Config& cfg) {
  const auto* keys = root.get("keys");
  if (!keys) return;
  size_t i = 0;
  std::set<std::string> ids;
  for (const auto& [node, p] : sequence_items(root.ctx(), keys->value, "keys", keys->value_pos)) {
    MapReader m(root.ctx(), node, "keys[" + std::to_string(i++) + "]", p);
    KeyEntry k;
    k.pos = m.pos();
    if (!m.str("id", k.id)) m.ctx().error(m.pos(), m.field("id") + ": required");
    else if (!ids.insert(k.id).second) m.ctx().error(m.get("id")->value_pos, m.field("id") + ": duplicate key id '" + k.id + "'");
    if (m.str("team", k.team)) k.team_pos = m.get("team")->value_pos;
    bool has_hash = m.str("sha256", k.sha256);
    std::string plain;
    bool has_plain = m.str("key", plain);
    if (has_hash && has_plain) {
      m.ctx().error(m.get("key")->key_pos, m.field("key") + ": give either sha256 or key, not both");
    } else if (has_hash) {
      for (auto& c : k.sha256) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (k.sha256.size() != 64 || k.sha256.find_first_not_of("0123456789abcdef") != std::string::npos)
        m.ctx().error(m.get("sha256")->value_pos, m.field("sha256") + ": expected 64 hex digits (sha256 of the key)");
    } else if (has_plain) {
      if (plain.empty()) m.ctx().error(m.get("key")->value_pos, m.field("key") + ": is empty");
      k.sha256 = sha256_hex(plain);
    } else if (m.is_map() && !m.has("key") && !m.has("sha256")) {
      m.ctx().error(m.pos(), m.field("sha256") + ": required (or key: ${VAR})");
    }
    m.str_list("models", k.models, &k.models_pos);
    cfg.keys.push_back(std::move(k));
  }
}

void check_keys(ParseContext& ctx, const Config& cfg) {
  auto teams = names_of(cfg.teams);
  auto aliases = names_of(cfg.models);
  std::set<std::string> hashes;
  for (const auto& k : cfg.keys) {
    // A key's team carries its models, limits, budget and DLP: a key without a defined
    // team would be unrestricted, so it is an error (declare `teams: {name: {}}` to mean
    // "no restrictions" on purpose).
    if (k.team.empty())
      ctx.error(k.pos, "keys." + k.id + ".team: required (the team whose models, limits, budget and DLP apply)");
    else if (!cfg.teams.count(k.team))
      ctx.error(k.team_pos, "keys." + k.id + ".team: '" + k.team + "' is not defined in teams" + did_you_mean_suffix(k.team, teams));
    for (size_t i = 0; i < k.models.size(); ++i) {
      const auto& alias = k.models[i];
      if (alias == "*" || cfg.models.count(alias)) continue;
      ctx.error(k.models_pos[i], "keys." + k.id + ".models: '" + alias + "' is not a model alias" + did_you_mean_suffix(alias, aliases));
    }
    if (k.sha256.size() == 64 && !hashes.insert(k.sha256).second)
      ctx.error(k.pos, "keys." + k.id + ": the same key is configured twice");
  }
}

}  // namespace warden::config::sections
