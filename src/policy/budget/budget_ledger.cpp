#include "warden/policy/budget/budget_ledger.hpp"

#include <spdlog/spdlog.h>

#include <ctime>

#include "warden/policy/store/sqlite_db.hpp"

namespace warden::policy {

namespace {
std::tm utc(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return tm;
}
}  // namespace

std::string BudgetLedger::day_of(std::chrono::system_clock::time_point t) {
  auto tm = utc(t);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  return buf;
}

std::string BudgetLedger::month_of(std::chrono::system_clock::time_point t) {
  auto tm = utc(t);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d", tm.tm_year + 1900, tm.tm_mon + 1);
  return buf;
}

BudgetLedger::BudgetLedger(const std::string& state_dir)
    : db_(std::make_unique<store::Database>(store::database_path(state_dir))) {
  store::ensure_schema(*db_);
}

BudgetLedger::~BudgetLedger() = default;

BudgetLedger::Entry& BudgetLedger::entry_locked(const std::string& scope, const std::string& period) {
  auto key = std::make_pair(scope, period);
  auto it = entries_.find(key);
  if (it != entries_.end()) return it->second;
  Entry e;
  auto st = db_->prepare("SELECT tokens, usd FROM spend WHERE scope = ? AND period = ?");
  st.bind(1, scope).bind(2, period);
  if (st.step()) e.committed = Spend{st.integer(0), st.real(1)};
  return entries_.emplace(key, e).first->second;
}

std::variant<Reservation, BudgetRefusal> BudgetLedger::reserve(const std::string& scope, const BudgetLimits& limits,
                                                               const Spend& ask,
                                                               std::chrono::system_clock::time_point now) {
  Reservation r;
  r.scope = scope;
  r.day = day_of(now);
  r.month = month_of(now);
  r.amount = ask;
  std::lock_guard lock(mu_);
  Entry& day = entry_locked(scope, r.day);
  Entry& month = entry_locked(scope, r.month);
  if (limits.hard) {
    if (limits.tokens_per_day > 0) {
      int64_t used = day.committed.tokens + day.reserved.tokens;
      if (used + ask.tokens > limits.tokens_per_day)
        return BudgetRefusal{"tokens_per_day", static_cast<double>(limits.tokens_per_day),
                             static_cast<double>(used), static_cast<double>(ask.tokens)};
    }
    if (limits.usd_per_month > 0) {
      double used = month.committed.usd + month.reserved.usd;
      if (used + ask.usd > limits.usd_per_month) return BudgetRefusal{"usd_per_month", limits.usd_per_month, used, ask.usd};
    }
  }
  day.reserved.tokens += ask.tokens;
  day.reserved.usd += ask.usd;
  month.reserved.tokens += ask.tokens;
  month.reserved.usd += ask.usd;
  r.id = next_id_++;
  return r;
}

void BudgetLedger::release(const Reservation& r) {
  std::lock_guard lock(mu_);
  for (const auto* period : {&r.day, &r.month}) {
    Entry& e = entry_locked(r.scope, *period);
    e.reserved.tokens -= r.amount.tokens;
    e.reserved.usd -= r.amount.usd;
    if (e.reserved.usd < 1e-12) e.reserved.usd = std::max(0.0, e.reserved.usd);
  }
}

std::pair<Spend, Spend> BudgetLedger::settle(const Reservation& r, const Spend& actual) {
  std::lock_guard lock(mu_);
  // The reservation leaves the periods it was made in; the charge lands in the periods
  // the request ended in (they differ only across midnight / month end).
  for (const auto* period : {&r.day, &r.month}) {
    Entry& e = entry_locked(r.scope, *period);
    e.reserved.tokens -= r.amount.tokens;
    e.reserved.usd -= r.amount.usd;
  }
  auto now = std::chrono::system_clock::now();
  std::string day = day_of(now), month = month_of(now);
  Entry& d = entry_locked(r.scope, day);
  Entry& m = entry_locked(r.scope, month);
  d.committed.tokens += actual.tokens;
  d.committed.usd += actual.usd;
  m.committed.tokens += actual.tokens;
  m.committed.usd += actual.usd;
  // Durable before the answer's record is complete: a kill -9 after this keeps the spend.
  try {
    db_->exec("BEGIN IMMEDIATE");
    auto st = db_->prepare(
      "INSERT INTO spend (scope, period, tokens, usd) VALUES (?, ?, ?, ?) "
      "ON CONFLICT(scope, period) DO UPDATE SET tokens = tokens + excluded.tokens, usd = usd + excluded.usd");
    for (const auto* period : {&day, &month}) {
      st.bind(1, r.scope).bind(2, *period).bind(3, actual.tokens).bind(4, actual.usd);
      st.step();
      st.reset();
    }
    db_->exec("COMMIT");
  } catch (const std::exception& e) {
    // The in-memory total still holds the charge, so this process keeps enforcing it.
    spdlog::error("budget ledger: cannot persist spend for {}: {}", r.scope, e.what());
    try {
      db_->exec("ROLLBACK");
    } catch (...) {
    }
  }
  return {d.committed, m.committed};
}

Spend BudgetLedger::committed(const std::string& scope, const std::string& period) {
  std::lock_guard lock(mu_);
  return entry_locked(scope, period).committed;
}

Spend BudgetLedger::reserved(const std::string& scope, const std::string& period) {
  std::lock_guard lock(mu_);
  return entry_locked(scope, period).reserved;
}

PeriodSpend BudgetLedger::snapshot(const std::string& scope, const std::string& period) {
  std::lock_guard lock(mu_);
  const Entry& e = entry_locked(scope, period);
  return PeriodSpend{e.committed, e.reserved};
}

}  // namespace warden::policy
