#pragma once
// Each configured team's budget state for this period, read from the BudgetLedger: the one
// computation behind GET /admin/teams and the warden_budget_used_ratio gauge, so both
// always agree. Read-only; takes the ledger's lock once per team and period (admin and
// scrape paths only, never per request).
#include <chrono>
#include <string>
#include <vector>

#include "warden/policy/budget/budget_ledger.hpp"

namespace warden::config {
struct Config;
struct Team;
}  // namespace warden::config

namespace warden::policy::admin {

struct BudgetDimension {
  std::string name;    // "tokens_per_day" | "usd_per_month"
  std::string period;  // "2026-11-23" | "2026-11" (UTC)
  double limit = 0;
  double used = 0;        // committed (settled) spend this period
  double reserved = 0;    // admitted requests still in flight (worst case)
  double used_ratio = 0;  // used / limit
};

struct TeamBudgetState {
  const config::Team* team = nullptr;
  PeriodSpend day;    // spend recorded under "team:NAME" for the day...
  PeriodSpend month;  // ...and the month (only teams with a budget are charged)
  std::vector<BudgetDimension> dimensions;  // the dimensions that have a limit
};

struct TeamBudgets {
  std::string day;    // the periods read
  std::string month;
  bool ledger_available = true;  // false: warden.db could not be opened; spend reads 0
  std::vector<TeamBudgetState> teams;  // config order (by name)
};

TeamBudgets team_budgets(const config::Config& cfg,
                         std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

}  // namespace warden::policy::admin
