#pragma once
// Spend per scope ("team:NAME") per period, durable in state_dir/warden.db (WAL), with
// in-flight reservations kept in memory. Admission reserves the worst case under one
// lock, so concurrent requests can never together commit more than the limit; settle
// moves a reservation to committed spend (the real usage), release drops it.
// Thread-safe.
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace warden::policy::store {
class Database;
}

namespace warden::policy {

struct Spend {
  int64_t tokens = 0;
  double usd = 0;
};

struct BudgetLimits {
  int64_t tokens_per_day = 0;  // 0 = unlimited
  double usd_per_month = 0;    // 0 = unlimited
  bool hard = true;            // soft: never refuse (alerts only)
};

struct Reservation {
  uint64_t id = 0;
  std::string scope;
  std::string day;    // "2026-11-23"
  std::string month;  // "2026-11"
  Spend amount;
};

// One scope's spend in one period as read at one instant (admin views).
struct PeriodSpend {
  Spend committed;
  Spend reserved;  // in flight: admitted, not yet settled or released
};

struct BudgetRefusal {
  std::string dimension;  // "tokens_per_day" | "usd_per_month"
  double limit = 0;
  double used = 0;        // committed + reserved by others
  double asked = 0;
};

class BudgetLedger {
 public:
  explicit BudgetLedger(const std::string& state_dir);  // throws store::DbError
  ~BudgetLedger();

  // Reserves `ask` against `limits` for the periods containing `now`, or refuses
  // (hard limits only) without reserving.
  std::variant<Reservation, BudgetRefusal> reserve(const std::string& scope, const BudgetLimits& limits,
                                                   const Spend& ask,
                                                   std::chrono::system_clock::time_point now =
                                                       std::chrono::system_clock::now());
  // Commits `actual` (durably) and drops the reservation. Returns committed totals
  // after the charge: {day totals, month totals}.
  std::pair<Spend, Spend> settle(const Reservation& r, const Spend& actual);
  void release(const Reservation& r);

  // Committed spend (from the database on first use), without reservations.
  Spend committed(const std::string& scope, const std::string& period);
  Spend reserved(const std::string& scope, const std::string& period);
  // Both under one lock, so committed and reserved are from the same moment. Read-only.
  PeriodSpend snapshot(const std::string& scope, const std::string& period);

  static std::string day_of(std::chrono::system_clock::time_point t);
  static std::string month_of(std::chrono::system_clock::time_point t);

 private:
  struct Entry {
    Spend committed;
    Spend reserved;
  };
  Entry& entry_locked(const std::string& scope, const std::string& period);

  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, Entry> entries_;
  uint64_t next_id_ = 1;
  std::unique_ptr<store::Database> db_;
};

}  // namespace warden::policy
