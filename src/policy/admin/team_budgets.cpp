#include "warden/policy/admin/team_budgets.hpp"

#include "warden/config/config.hpp"
#include "warden/policy/runtime.hpp"

namespace warden::policy::admin {

TeamBudgets team_budgets(const config::Config& cfg, std::chrono::system_clock::time_point now) {
  TeamBudgets out;
  out.day = BudgetLedger::day_of(now);
  out.month = BudgetLedger::month_of(now);
  BudgetLedger* ledger = Runtime::for_config(cfg).ledger();
  out.ledger_available = ledger != nullptr;
  for (const auto& [name, team] : cfg.teams) {
    TeamBudgetState s;
    s.team = &team;
    if (ledger) {
      // The same scope string the budget filter charges.
      const std::string scope = "team:" + name;
      s.day = ledger->snapshot(scope, out.day);
      s.month = ledger->snapshot(scope, out.month);
    }
    const auto& b = team.budget;
    if (b.tokens_per_day > 0) {
      BudgetDimension d{"tokens_per_day", out.day, static_cast<double>(b.tokens_per_day),
                        static_cast<double>(s.day.committed.tokens), static_cast<double>(s.day.reserved.tokens), 0};
      d.used_ratio = d.used / d.limit;
      s.dimensions.push_back(std::move(d));
    }
    if (b.usd_per_month > 0) {
      BudgetDimension d{"usd_per_month", out.month, b.usd_per_month, s.month.committed.usd, s.month.reserved.usd, 0};
      d.used_ratio = d.used / d.limit;
      s.dimensions.push_back(std::move(d));
    }
    out.teams.push_back(std::move(s));
  }
  return out;
}

}  // namespace warden::policy::admin
