#pragma once
// Usage ledger: one SQLite row per request in state_dir/usage.db (WAL). The request path
// appends to an in-memory queue and copies the row's line into a journal file mapped
// MAP_SHARED (a memcpy into the page cache, no system call, under one short mutex hold); a
// background thread writes the rows to SQLite in batches, one transaction per batch, so no
// I/O thread waits on disk. Crash safety (issue 15): a row is in the journal
// (usage.journal.0/.1 beside usage.db, 8 MiB each) before append() returns, so a killed
// process (kill -9) loses no row the request path appended: open() replays journal rows
// the database lacks (matched on request_id + ts_ms). The writer switches journals past
// 4 MiB and empties the old one once every row in it is committed. The queue is bounded: when the disk cannot keep up, rows are dropped
// and counted (warden_usage_ledger_dropped_total) rather than growing memory without limit.
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "warden/common/result.hpp"

namespace warden::telemetry {

struct UsageRow {
  int64_t ts_ms = 0;  // unix time of completion, milliseconds
  std::string request_id;
  std::string key_id;
  std::string team;
  std::string alias;
  std::string target;  // "provider/model" that answered; empty when none did
  int64_t prompt_tokens = 0;  // includes cache hits (OpenAI convention)
  int64_t cache_hit_tokens = 0;
  int64_t completion_tokens = 0;  // includes reasoning
  int64_t reasoning_tokens = 0;
  double cost_usd = 0;
  double latency_ms = 0;
  double ttft_ms = -1;  // -1: no token was produced
  int status = 0;
  std::string error_code;
  bool cache_hit = false;
  bool stream = false;
};

std::string usage_db_path(const std::string& state_dir);

class UsageLedger {
 public:
  // Creates state_dir if needed and opens (or creates) usage.db, replaying the journal.
  // `audit_file` (the audit trail's current file, "" = none): request records in its tail
  // that the ledger lacks (a crash between the audit write and the ledger append, which
  // follows it) become rows too, so ledger rows == audit records after a crash. Error
  // when it cannot open or replay.
  static Result<std::unique_ptr<UsageLedger>> open(const std::string& state_dir, size_t max_queue = 65536,
                                                   const std::string& audit_file = "");
  ~UsageLedger();  // writes what is queued, then stops the writer
  UsageLedger(const UsageLedger&) = delete;
  UsageLedger& operator=(const UsageLedger&) = delete;

  // Never blocks on disk. False when the row was dropped (queue full or ledger stopping).
  bool append(UsageRow row);
  // Blocks until every row appended before the call is committed (tests, shutdown, reports).
  void flush();
  uint64_t written() const;
  uint64_t dropped() const;
  // Rows found at open() in the journal or the audit tail that the database lacked.
  uint64_t replayed() const { return replayed_; }

 private:
  UsageLedger(void* db, size_t max_queue, std::string state_dir, uint64_t replayed);
  void run();

  void* db_;  // sqlite3*
  size_t max_queue_;
  std::string state_dir_;
  uint64_t replayed_ = 0;
  void empty_journal(int j);  // writer thread, for a retired journal
  int journal_fd_[2] = {-1, -1};
  char* journal_[2] = {nullptr, nullptr};  // MAP_SHARED mappings; the active one written under mu_
  int active_journal_ = 0;
  int64_t journal_bytes_ = 0;     // used bytes of the active journal
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable flushed_;
  std::vector<UsageRow> queue_;  // swapped out whole by the writer
  uint64_t appended_ = 0;
  uint64_t written_ = 0;
  uint64_t dropped_ = 0;
  bool stop_ = false;
  bool writer_idle_ = false;      // the writer waits for a first row (append wakes it)
  bool flush_requested_ = false;  // flush() waits: write without the batching pause
  std::thread thread_;
};

// ---- reports (CLI `warden usage report` and GET /admin/usage) --------------------------

enum class UsageGroupBy { Team, Key, Model, Alias };
std::optional<UsageGroupBy> parse_group_by(std::string_view s);
const char* group_by_name(UsageGroupBy by);  // "team" | "key" | "model" | "alias"

struct UsageGroup {
  std::string name;  // team / key id / provider-model / alias
  int64_t requests = 0;
  int64_t errors = 0;  // status >= 400
  int64_t prompt_tokens = 0;
  int64_t cache_hit_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t reasoning_tokens = 0;
  double cost_usd = 0;
};

// Rows with from_ms <= ts_ms < to_ms, grouped and sorted by name. A missing database is
// an empty report (nothing recorded yet), not an error.
Result<std::vector<UsageGroup>> usage_report(const std::string& state_dir, UsageGroupBy by, int64_t from_ms,
                                             int64_t to_ms);

// "2026-11-23" (that day's start; as a --to bound, the next day's start: whole days are
// inclusive), "2026-11-23T10:00:00Z" (exact), or unix milliseconds. UTC. nullopt: invalid.
std::optional<int64_t> parse_report_time(std::string_view s, bool upper_bound);

std::string usage_report_json(const std::vector<UsageGroup>& groups, UsageGroupBy by);
std::string usage_report_csv(const std::vector<UsageGroup>& groups, UsageGroupBy by);
std::string usage_report_table(const std::vector<UsageGroup>& groups, UsageGroupBy by);

}  // namespace warden::telemetry
