#pragma once
// Team budgets (tokens/day, USD/month). Admission reserves the worst case (prompt upper
// bound + max_tokens at the dearest target price); on_complete settles the real usage or
// releases on failure; the destructor releases whatever was not settled. Hard budgets
// refuse with 402 budget_exceeded; soft ones only alert (log + decision counter).
#include <optional>

#include "warden/policy/budget/budget_ledger.hpp"
#include "warden/policy/filter.hpp"

namespace warden::policy {

// Used as max_tokens (and set on the request) when a budgeted request has none and the
// team sets no cap, so the worst case is bounded.
inline constexpr int64_t kDefaultBudgetMaxTokens = 4096;

class BudgetFilter final : public Filter {
 public:
  ~BudgetFilter() override;
  asio::awaitable<FilterStatus> on_request(RequestContext& ctx) override;
  void on_complete(RequestContext& ctx) override;

 private:
  BudgetLedger* ledger_ = nullptr;
  std::optional<Reservation> reservation_;
};

}  // namespace warden::policy
