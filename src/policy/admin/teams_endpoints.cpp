// GET /admin/teams: each configured team with its budget, this period's spend from the
// BudgetLedger (the same numbers the budget filter enforces and the
// warden_budget_used_ratio gauge exports), its rate limits and how many keys it has.
#include <map>

#include "admin_support.hpp"
#include "warden/policy/admin/team_budgets.hpp"
#include "warden/policy/auth/key_store.hpp"

namespace warden::policy::admin {

namespace {

void append_spend(std::string& out, const PeriodSpend& p) {
  out += R"({"tokens":)" + std::to_string(p.committed.tokens) + R"(,"usd":)" + json_number(p.committed.usd) +
         R"(,"reserved_tokens":)" + std::to_string(p.reserved.tokens) + R"(,"reserved_usd":)" +
         json_number(p.reserved.usd) + '}';
}

std::string teams_json(const config::Config& cfg) {
  const TeamBudgets tb = team_budgets(cfg);
  // Active virtual keys per team (config keys are counted separately).
  std::map<std::string, int64_t> virtual_keys;
  bool keys_known = false;
  if (KeyStore* store = Runtime::for_config(cfg).keys()) {
    try {
      const int64_t now = unix_now();
      for (const auto& k : store->list())
        if (k.active(now)) ++virtual_keys[k.team];
      keys_known = true;
    } catch (const std::exception& e) {
      spdlog::error("admin: listing keys failed: {}", e.what());
    }
  }
  std::map<std::string, int64_t> config_keys;
  for (const auto& k : cfg.keys) ++config_keys[k.team];

  std::string out = R"({"generation":)" + std::to_string(cfg.generation) + R"(,"day":)";
  append_json_quoted(out, tb.day);
  out += R"(,"month":)";
  append_json_quoted(out, tb.month);
  out += R"(,"ledger_available":)";
  out += tb.ledger_available ? "true" : "false";
  out += R"(,"teams":[)";
  for (size_t i = 0; i < tb.teams.size(); ++i) {
    const auto& s = tb.teams[i];
    const auto& t = *s.team;
    const auto& b = t.budget;
    if (i) out += ',';
    out += R"({"team":)";
    append_json_quoted(out, t.name);
    out += R"(,"models":)";
    append_string_array(out, t.models);
    out += R"(,"budget":)";
    if (b.usd_per_month <= 0 && b.tokens_per_day <= 0) {
      out += "null";
    } else {
      out += R"({"mode":")";
      out += b.mode == config::BudgetMode::Hard ? "hard" : "soft";
      out += R"(","usd_per_month":)" + json_number(b.usd_per_month);
      out += R"(,"tokens_per_day":)" + std::to_string(b.tokens_per_day);
      out += R"(,"alert_at":[)";
      for (size_t a = 0; a < b.alert_at.size(); ++a) out += (a ? "," : "") + json_number(b.alert_at[a]);
      out += "]}";
    }
    out += R"(,"spend":{"day":)";
    append_spend(out, s.day);
    out += R"(,"month":)";
    append_spend(out, s.month);
    out += R"(},"used":{)";
    for (size_t d = 0; d < s.dimensions.size(); ++d) {
      const auto& dim = s.dimensions[d];
      if (d) out += ',';
      append_json_quoted(out, dim.name);
      out += R"(:{"period":)";
      append_json_quoted(out, dim.period);
      out += R"(,"limit":)" + json_number(dim.limit) + R"(,"used":)" + json_number(dim.used) +
             R"(,"reserved":)" + json_number(dim.reserved) + R"(,"used_ratio":)" + json_number(dim.used_ratio);
      out += R"(,"exceeded":)";
      out += dim.used > dim.limit ? "true" : "false";
      out += '}';
    }
    out += R"(},"rate_limits":)";
    append_limits(out, t.rate_limits);
    out += R"(,"key_rate_limits":)";
    append_limits(out, t.key_rate_limits);
    out += R"(,"keys":{"config":)" + std::to_string(config_keys[t.name]) + R"(,"virtual_active":)";
    out += keys_known ? std::to_string(virtual_keys[t.name]) : std::string("null");
    out += "}}";
  }
  out += "]}";
  return out;
}

asio::awaitable<void> teams(server::Exchange& ex, std::shared_ptr<const config::Config> cfg) {
  co_await ex.respond(200, "application/json", teams_json(*cfg));
}

}  // namespace

void register_teams(server::EndpointTable& admin) { admin.add("GET", "/admin/teams", teams); }

}  // namespace warden::policy::admin
