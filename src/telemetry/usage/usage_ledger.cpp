#include "warden/telemetry/usage/usage_ledger.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <simdjson.h>

#include <map>

#include "warden/policy/store/sqlite_db.hpp"
#include "warden/telemetry/metrics/registry.hpp"

namespace warden::telemetry {

namespace {

constexpr const char* kSchema = R"(
CREATE TABLE IF NOT EXISTS usage(
  ts_ms INTEGER NOT NULL,
  request_id TEXT NOT NULL,
  key_id TEXT NOT NULL,
  team TEXT NOT NULL,
  alias TEXT NOT NULL,
  target TEXT NOT NULL,
  prompt_tokens INTEGER NOT NULL,
  cache_hit_tokens INTEGER NOT NULL,
  completion_tokens INTEGER NOT NULL,
  reasoning_tokens INTEGER NOT NULL,
  cost_usd REAL NOT NULL,
  latency_ms REAL NOT NULL,
  ttft_ms REAL NOT NULL,
  status INTEGER NOT NULL,
  error_code TEXT NOT NULL,
  cache_hit INTEGER NOT NULL,
  stream INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS usage_ts ON usage(ts_ms);
)";

constexpr size_t kBatch = 512;
// Each journal is a fixed-size file mapped MAP_SHARED: an append is a memcpy into the page
// cache (no system call on the request path; a write(2) per row measured 5 µs here), which
// survives the process being killed. The writer switches journals at half the size.
constexpr int64_t kJournalBytes = 8 << 20;
constexpr int64_t kJournalSwitchBytes = kJournalBytes / 2;
constexpr int kColumns = 17;
constexpr const char* kInsertSql =
    "INSERT INTO usage(ts_ms,request_id,key_id,team,alias,target,prompt_tokens,cache_hit_tokens,"
    "completion_tokens,reasoning_tokens,cost_usd,latency_ms,ttft_ms,status,error_code,cache_hit,"
    "stream) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";

std::string journal_path(const std::string& state_dir, int i) {
  return (std::filesystem::path(state_dir) / ("usage.journal." + std::to_string(i))).string();
}

// Journal line: the 17 columns separated by \x1f, ended by \n; \\, \x1f and \n inside text
// are escaped so every line splits back into exactly the columns it was made of.
void put_text(std::string& out, std::string_view s) {
  for (char c : s) {
    if (c == '\\') out += "\\\\";
    else if (c == '\x1f') out += "\\u";
    else if (c == '\n') out += "\\n";
    else if (c == '\0') out += "\\0";  // the unused tail of a journal is zero bytes
    else out += c;
  }
}

std::string journal_line(const UsageRow& r) {
  std::string out;
  out.reserve(256);
  char num[64];
  auto sep = [&] { out += '\x1f'; };
  // to_chars: shortest round-trip text, several times cheaper than snprintf("%.17g").
  auto put_int = [&](int64_t v) { out.append(num, std::to_chars(num, num + sizeof num, v).ptr); };
  auto put_double = [&](double v) { out.append(num, std::to_chars(num, num + sizeof num, v).ptr); };
  put_int(r.ts_ms);
  for (const std::string* t : {&r.request_id, &r.key_id, &r.team, &r.alias, &r.target}) {
    sep();
    put_text(out, *t);
  }
  for (int64_t v : {r.prompt_tokens, r.cache_hit_tokens, r.completion_tokens, r.reasoning_tokens}) {
    sep();
    put_int(v);
  }
  for (double v : {r.cost_usd, r.latency_ms, r.ttft_ms}) {
    sep();
    put_double(v);
  }
  sep();
  put_int(r.status);
  sep();
  put_text(out, r.error_code);
  sep();
  put_int(r.cache_hit ? 1 : 0);
  sep();
  put_int(r.stream ? 1 : 0);
  out += '\n';
  return out;
}

std::optional<UsageRow> parse_journal_line(std::string_view line) {
  std::vector<std::string> f(1);
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (c == '\x1f') {
      f.emplace_back();
    } else if (c == '\\' && i + 1 < line.size()) {
      char n = line[++i];
      f.back() += n == 'u' ? '\x1f' : n == 'n' ? '\n' : n == '0' ? '\0' : n;
    } else {
      f.back() += c;
    }
  }
  if (static_cast<int>(f.size()) != kColumns) return std::nullopt;  // a torn or foreign line
  auto to_int = [](const std::string& s, int64_t& v) {
    char* end = nullptr;
    errno = 0;
    v = std::strtoll(s.c_str(), &end, 10);
    return !s.empty() && errno == 0 && *end == '\0';
  };
  auto to_double = [](const std::string& s, double& v) {
    char* end = nullptr;
    v = std::strtod(s.c_str(), &end);
    return !s.empty() && *end == '\0';
  };
  UsageRow r;
  int64_t status = 0, cache_hit = 0, stream = 0;
  if (!to_int(f[0], r.ts_ms) || !to_int(f[6], r.prompt_tokens) || !to_int(f[7], r.cache_hit_tokens) ||
      !to_int(f[8], r.completion_tokens) || !to_int(f[9], r.reasoning_tokens) || !to_double(f[10], r.cost_usd) ||
      !to_double(f[11], r.latency_ms) || !to_double(f[12], r.ttft_ms) || !to_int(f[13], status) ||
      !to_int(f[15], cache_hit) || !to_int(f[16], stream))
    return std::nullopt;
  r.request_id = std::move(f[1]);
  r.key_id = std::move(f[2]);
  r.team = std::move(f[3]);
  r.alias = std::move(f[4]);
  r.target = std::move(f[5]);
  r.status = static_cast<int>(status);
  r.error_code = std::move(f[14]);
  r.cache_hit = cache_hit != 0;
  r.stream = stream != 0;
  return r;
}

bool insert_row(sqlite3_stmt* insert, const UsageRow& r) {
  int i = 1;
  sqlite3_bind_int64(insert, i++, r.ts_ms);
  for (const std::string* s : {&r.request_id, &r.key_id, &r.team, &r.alias, &r.target})
    sqlite3_bind_text(insert, i++, s->data(), static_cast<int>(s->size()), SQLITE_TRANSIENT);
  for (int64_t v : {r.prompt_tokens, r.cache_hit_tokens, r.completion_tokens, r.reasoning_tokens})
    sqlite3_bind_int64(insert, i++, v);
  for (double v : {r.cost_usd, r.latency_ms, r.ttft_ms}) sqlite3_bind_double(insert, i++, v);
  sqlite3_bind_int(insert, i++, r.status);
  sqlite3_bind_text(insert, i++, r.error_code.data(), static_cast<int>(r.error_code.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int(insert, i++, r.cache_hit ? 1 : 0);
  sqlite3_bind_int(insert, i++, r.stream ? 1 : 0);
  const bool ok = sqlite3_step(insert) == SQLITE_DONE;
  sqlite3_reset(insert);
  return ok;
}

// Rows of the journals that the database lacks (a crash between append and commit) are
// inserted in one transaction. Returns how many; -1 on a database error.
int64_t replay_journals(sqlite3* db, const std::string& state_dir) {
  std::vector<UsageRow> rows;
  for (int j = 0; j < 2; ++j) {
    std::ifstream in(journal_path(state_dir, j), std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    text.resize(std::min(text.size(), text.find('\0')));  // written part of the mapping
    std::string_view rest(text);
    while (!rest.empty()) {
      const size_t nl = rest.find('\n');
      if (nl == std::string_view::npos) break;  // a torn last line
      if (auto r = parse_journal_line(rest.substr(0, nl))) rows.push_back(std::move(*r));
      rest.remove_prefix(nl + 1);
    }
  }
  if (rows.empty()) return 0;
  sqlite3_stmt* exists = nullptr;
  sqlite3_stmt* insert = nullptr;
  int64_t added = 0;
  bool ok = sqlite3_prepare_v2(db, "SELECT 1 FROM usage WHERE ts_ms=? AND request_id=? LIMIT 1", -1, &exists,
                               nullptr) == SQLITE_OK &&
            sqlite3_prepare_v2(db, kInsertSql, -1, &insert, nullptr) == SQLITE_OK &&
            sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr) == SQLITE_OK;
  for (const auto& r : rows) {
    if (!ok) break;
    sqlite3_bind_int64(exists, 1, r.ts_ms);
    sqlite3_bind_text(exists, 2, r.request_id.data(), static_cast<int>(r.request_id.size()), SQLITE_TRANSIENT);
    const int rc = sqlite3_step(exists);
    sqlite3_reset(exists);
    if (rc == SQLITE_ROW) continue;
    if (rc != SQLITE_DONE) {
      ok = false;
      break;
    }
    ok = insert_row(insert, r);
    ++added;
  }
  if (ok) ok = sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK;
  else sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_finalize(exists);
  sqlite3_finalize(insert);
  return ok ? added : -1;
}

Error db_error(sqlite3* db, const std::string& what) {
  return Error{500, "usage_ledger_error", what + ": " + (db ? sqlite3_errmsg(db) : "out of memory"), "server_error",
               ""};
}

Counter& dropped_counter() {
  static Counter& c = Registry::global().counter(
      "warden_usage_ledger_dropped_total", "Usage rows dropped because the ledger writer could not keep up.");
  return c;
}

Counter& write_errors_counter() {
  static Counter& c =
      Registry::global().counter("warden_usage_ledger_write_errors_total", "Usage ledger batches that failed to commit.");
  return c;
}

// Unix milliseconds of an audit "time" (2026-11-23T10:00:00.123Z); -1 when malformed.
int64_t audit_time_ms(std::string_view t) {
  int y, mo, d, h, mi, sec, ms;
  if (t.size() != 24 || std::sscanf(std::string(t).c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &y, &mo, &d, &h, &mi, &sec, &ms) != 7)
    return -1;
  using namespace std::chrono;
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return -1;
  return duration_cast<milliseconds>((sys_days{ymd} + hours{h} + minutes{mi} + seconds{sec}).time_since_epoch()).count() + ms;
}

// Request records of the audit file's tail (its last 4 MiB) that are chat requests (an
// alias: /v1/models records have none), as ledger rows.
std::vector<UsageRow> audit_tail_rows(const std::string& audit_file) {
  std::vector<UsageRow> rows;
  std::ifstream in(audit_file, std::ios::binary | std::ios::ate);
  if (!in) return rows;
  const std::streamoff size = in.tellg();
  constexpr std::streamoff kTail = 4 << 20;
  in.seekg(size > kTail ? size - kTail : 0);
  std::string line;
  if (size > kTail) std::getline(in, line);  // a partial first line
  simdjson::dom::parser parser;
  while (std::getline(in, line)) {
    simdjson::dom::object o;
    if (parser.parse(line).get(o) != simdjson::SUCCESS) continue;
    std::string_view type, time, alias;
    if (o["type"].get(type) != simdjson::SUCCESS || type != "request") continue;
    if (o["alias"].get(alias) != simdjson::SUCCESS || alias.empty()) continue;
    if (o["time"].get(time) != simdjson::SUCCESS) continue;
    UsageRow r;
    r.ts_ms = audit_time_ms(time);
    if (r.ts_ms < 0) continue;
    r.alias = std::string(alias);
    std::string_view v;
    if (o["request_id"].get(v) == simdjson::SUCCESS) r.request_id = std::string(v);
    if (o["key_id"].get(v) == simdjson::SUCCESS) r.key_id = std::string(v);
    if (o["team"].get(v) == simdjson::SUCCESS) r.team = std::string(v);
    if (o["target"].get(v) == simdjson::SUCCESS) r.target = std::string(v);
    int64_t n = 0;
    if (o["status"].get(n) == simdjson::SUCCESS) r.status = static_cast<int>(n);
    if (o["prompt_tokens"].get(n) == simdjson::SUCCESS) r.prompt_tokens = n;
    if (o["completion_tokens"].get(n) == simdjson::SUCCESS) r.completion_tokens = n;
    if (o["cache_hit_tokens"].get(n) == simdjson::SUCCESS) r.cache_hit_tokens = n;
    if (o["latency_ms"].get(n) == simdjson::SUCCESS) r.latency_ms = static_cast<double>(n);
    double cost = 0;
    if (o["cost_usd"].get(cost) == simdjson::SUCCESS) r.cost_usd = cost;
    simdjson::dom::object decisions;
    if (o["decisions"].get(decisions) == simdjson::SUCCESS)
      for (auto field : decisions)
        if (field.key.substr(0, 8) == "refused.") r.error_code = std::string(field.key.substr(8));
    rows.push_back(std::move(r));
  }
  return rows;
}

// The audit record is written before the ledger row (same request, same thread): a crash
// between the two leaves a record the ledger lacks. Those are inserted from the record, so
// after a restart ledger rows == audit records. Matched by request id (as many rows as
// records) among ledger rows from 5 minutes before the tail's first record on. Returns
// how many; -1 on a database error.
int64_t reconcile_with_audit(sqlite3* db, const std::string& audit_file) {
  auto records = audit_tail_rows(audit_file);
  if (records.empty()) return 0;
  int64_t from = records.front().ts_ms;
  for (const auto& r : records) from = std::min(from, r.ts_ms);
  std::map<std::string, int64_t> have;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT request_id FROM usage WHERE ts_ms >= ?", -1, &st, nullptr) != SQLITE_OK) return -1;
  sqlite3_bind_int64(st, 1, from - 300'000);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW)
    if (auto* t = sqlite3_column_text(st, 0)) ++have[reinterpret_cast<const char*>(t)];
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return -1;
  std::vector<const UsageRow*> missing;
  for (const auto& r : records) {
    auto it = have.find(r.request_id);
    if (it != have.end() && it->second > 0) --it->second;
    else missing.push_back(&r);
  }
  if (missing.empty()) return 0;
  sqlite3_stmt* insert = nullptr;
  bool ok = sqlite3_prepare_v2(db, kInsertSql, -1, &insert, nullptr) == SQLITE_OK &&
            sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr) == SQLITE_OK;
  for (const UsageRow* r : missing) {
    if (!ok) break;
    ok = insert_row(insert, *r);
  }
  if (ok) ok = sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK;
  else sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_finalize(insert);
  return ok ? static_cast<int64_t>(missing.size()) : -1;
}

}  // namespace

std::string usage_db_path(const std::string& state_dir) {
  return (std::filesystem::path(state_dir) / "usage.db").string();
}

Result<std::unique_ptr<UsageLedger>> UsageLedger::open(const std::string& state_dir, size_t max_queue,
                                                        const std::string& audit_file) {
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec) return Error{500, "usage_ledger_error", "cannot create " + state_dir + ": " + ec.message(), "server_error", ""};
  sqlite3* db = nullptr;
  const std::string path = usage_db_path(state_dir);
  try {
    policy::store::prepare_private_file(path);  // 0600, like every SQLite file warden makes
  } catch (const std::exception& ex) {
    return Error{500, "usage_ledger_error", ex.what(), "server_error", ""};
  }
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr) !=
      SQLITE_OK) {
    Error e = db_error(db, "open " + path);
    sqlite3_close(db);
    return e;
  }
  sqlite3_busy_timeout(db, 5000);
  for (const char* sql : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", kSchema}) {
    if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
      Error e = db_error(db, path);
      sqlite3_close(db);
      return e;
    }
  }
  int64_t replayed = replay_journals(db, state_dir);
  if (replayed >= 0 && !audit_file.empty()) {
    const int64_t from_audit = reconcile_with_audit(db, audit_file);
    replayed = from_audit < 0 ? -1 : replayed + from_audit;
  }
  if (replayed < 0) {
    Error e = db_error(db, "replaying the usage journal into " + path);
    sqlite3_close(db);
    return e;
  }
  auto ledger = std::unique_ptr<UsageLedger>(new UsageLedger(db, max_queue, state_dir, static_cast<uint64_t>(replayed)));
  if (!ledger->journal_[0] || !ledger->journal_[1])
    return Error{500, "usage_ledger_error", "cannot open the usage journal in " + state_dir + ": " + std::strerror(errno),
                 "server_error", ""};
  return ledger;
}

UsageLedger::UsageLedger(void* db, size_t max_queue, std::string state_dir, uint64_t replayed)
    : db_(db), max_queue_(max_queue), state_dir_(std::move(state_dir)), replayed_(replayed) {
  // Every journal row is now in the database: both start empty (zeros), fixed size, mapped.
  for (int j = 0; j < 2; ++j) {
    const int fd = ::open(journal_path(state_dir_, j).c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) continue;
    if (::ftruncate(fd, kJournalBytes) == 0) {
      void* m = ::mmap(nullptr, kJournalBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      if (m != MAP_FAILED) {
        journal_fd_[j] = fd;
        journal_[j] = static_cast<char*>(m);
        continue;
      }
    }
    ::close(fd);
  }
  thread_ = std::thread([this] { run(); });
}

UsageLedger::~UsageLedger() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
  sqlite3_close(static_cast<sqlite3*>(db_));
  // Every row was committed (or counted dropped): nothing left to replay.
  const bool all_in = written_ + dropped_ >= appended_;
  for (int j = 0; j < 2; ++j) {
    if (journal_[j]) ::munmap(journal_[j], kJournalBytes);
    if (journal_fd_[j] < 0) continue;
    if (all_in) (void)::ftruncate(journal_fd_[j], 0);
    ::close(journal_fd_[j]);
  }
}

void UsageLedger::empty_journal(int j) {
  // Only the writer touches a retired journal; appenders use the other one. Truncating to 0
  // and back drops its pages (zeros again) without remapping.
  if (journal_fd_[j] < 0) return;
  if (::ftruncate(journal_fd_[j], 0) != 0 || ::ftruncate(journal_fd_[j], kJournalBytes) != 0) {
    // Leave it; appends past its end would fault, so keep it out of use.
    ::munmap(journal_[j], kJournalBytes);
    journal_[j] = nullptr;
  }
}

bool UsageLedger::append(UsageRow row) {
  bool wake;
  {
    std::lock_guard lock(mu_);
    if (stop_ || queue_.size() >= max_queue_) {
      ++dropped_;
      dropped_counter().inc();
      return false;
    }
    // Journal first: once append() returns, a kill -9 cannot lose the row. A row that does
    // not fit (the writer fell far behind) stays in memory only, like before journals.
    const std::string line = journal_line(row);
    char* journal = journal_[active_journal_];
    if (journal && journal_bytes_ + static_cast<int64_t>(line.size()) < kJournalBytes) {
      std::memcpy(journal + journal_bytes_, line.data(), line.size());
      journal_bytes_ += static_cast<int64_t>(line.size());
    }
    queue_.push_back(std::move(row));
    ++appended_;
    // Wake the writer only when it sleeps on an empty queue or a full batch waits: a
    // notify per row made every request pay a futex wake and a context switch of the
    // writer thread (on a 2-core box, most of the ledger's cost per request).
    wake = writer_idle_ || queue_.size() == kBatch;
    if (writer_idle_) writer_idle_ = false;
  }
  if (wake) wake_.notify_one();
  return true;
}

void UsageLedger::flush() {
  std::unique_lock lock(mu_);
  const uint64_t target = appended_;
  flush_requested_ = true;
  wake_.notify_one();
  flushed_.wait(lock, [&] { return written_ + dropped_ >= target || (stop_ && queue_.empty()); });
}

uint64_t UsageLedger::written() const {
  std::lock_guard lock(mu_);
  return written_;
}

uint64_t UsageLedger::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

void UsageLedger::run() {
  auto* db = static_cast<sqlite3*>(db_);
  sqlite3_stmt* insert = nullptr;
  sqlite3_prepare_v2(db, kInsertSql, -1, &insert, nullptr);
  std::vector<UsageRow> batch;
  std::unique_lock lock(mu_);
  for (;;) {
    // Wait briefly so rows of a burst share one transaction; flush() and stop wake us.
    wake_.wait_for(lock, std::chrono::milliseconds(100),
                   [&] { return stop_ || flush_requested_ || queue_.size() >= kBatch; });
    flush_requested_ = false;
    if (queue_.empty()) {
      flushed_.notify_all();
      if (stop_) break;
      writer_idle_ = true;
      wake_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      writer_idle_ = false;
      continue;
    }
    // Take every queued row at once: an O(1) swap, so appenders never wait behind a
    // row-by-row move. The two vectors keep their capacity (no allocation per batch).
    batch.clear();
    batch.swap(queue_);
    // Every row written to the active journal so far is in `batch` (or committed before):
    // past the size limit, switch journals and empty the old one once this batch commits.
    int retire = -1;
    if (journal_bytes_ >= kJournalSwitchBytes) {
      retire = active_journal_;
      active_journal_ = 1 - active_journal_;
      journal_bytes_ = 0;
    }
    lock.unlock();
    bool ok = insert && sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr) == SQLITE_OK;
    for (const UsageRow& r : batch) {
      if (!ok) break;
      ok = insert_row(insert, r);
    }
    if (ok) ok = sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK;
    // A failed batch stays in the old journal too: the next start replays what it can.
    if (ok && retire >= 0) empty_journal(retire);
    if (!ok) {
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      write_errors_counter().inc();
    }
    lock.lock();
    if (ok) written_ += batch.size();
    else {
      dropped_ += batch.size();
      dropped_counter().inc(static_cast<double>(batch.size()));
    }
    flushed_.notify_all();
  }
  lock.unlock();
  sqlite3_finalize(insert);
}

// ---- reports ---------------------------------------------------------------------------

std::optional<UsageGroupBy> parse_group_by(std::string_view s) {
  if (s == "team") return UsageGroupBy::Team;
  if (s == "key") return UsageGroupBy::Key;
  if (s == "model") return UsageGroupBy::Model;
  if (s == "alias") return UsageGroupBy::Alias;
  return std::nullopt;
}

namespace {

const char* group_column(UsageGroupBy by) {
  switch (by) {
    case UsageGroupBy::Team: return "team";
    case UsageGroupBy::Key: return "key_id";
    case UsageGroupBy::Model: return "target";
    case UsageGroupBy::Alias: return "alias";
  }
  return "team";
}

const char* group_name(UsageGroupBy by) {
  switch (by) {
    case UsageGroupBy::Team: return "team";
    case UsageGroupBy::Key: return "key";
    case UsageGroupBy::Model: return "model";
    case UsageGroupBy::Alias: return "alias";
  }
  return "team";
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

}  // namespace

Result<std::vector<UsageGroup>> usage_report(const std::string& state_dir, UsageGroupBy by, int64_t from_ms,
                                             int64_t to_ms) {
  std::vector<UsageGroup> groups;
  const std::string path = usage_db_path(state_dir);
  if (!std::filesystem::exists(path)) return groups;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    Error e = db_error(db, "open " + path);
    sqlite3_close(db);
    return e;
  }
  sqlite3_busy_timeout(db, 5000);
  const std::string col = group_column(by);
  const std::string sql = "SELECT " + col +
                          ", COUNT(*), SUM(status >= 400), SUM(prompt_tokens), SUM(cache_hit_tokens), "
                          "SUM(completion_tokens), SUM(reasoning_tokens), SUM(cost_usd) FROM usage "
                          "WHERE ts_ms >= ? AND ts_ms < ? GROUP BY " +
                          col + " ORDER BY " + col;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
    Error e = db_error(db, path);
    sqlite3_close(db);
    return e;
  }
  sqlite3_bind_int64(st, 1, from_ms);
  sqlite3_bind_int64(st, 2, to_ms);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    UsageGroup g;
    if (auto* t = sqlite3_column_text(st, 0)) g.name = reinterpret_cast<const char*>(t);
    g.requests = sqlite3_column_int64(st, 1);
    g.errors = sqlite3_column_int64(st, 2);
    g.prompt_tokens = sqlite3_column_int64(st, 3);
    g.cache_hit_tokens = sqlite3_column_int64(st, 4);
    g.completion_tokens = sqlite3_column_int64(st, 5);
    g.reasoning_tokens = sqlite3_column_int64(st, 6);
    g.cost_usd = sqlite3_column_double(st, 7);
    groups.push_back(std::move(g));
  }
  Result<std::vector<UsageGroup>> out = std::move(groups);
  if (rc != SQLITE_DONE) out = db_error(db, path);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

std::optional<int64_t> parse_report_time(std::string_view s, bool upper_bound) {
  if (all_digits(s) && s.size() > 10) return std::stoll(std::string(s));
  int y, mo, d, h = 0, mi = 0, sec = 0;
  char tail = 0;
  const std::string str(s);
  bool date_only = false;
  if (s.size() == 10 && std::sscanf(str.c_str(), "%4d-%2d-%2d", &y, &mo, &d) == 3) {
    date_only = true;
  } else if (std::sscanf(str.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &y, &mo, &d, &h, &mi, &sec, &tail) == 7 &&
             tail == 'Z' && s.size() == 20) {
  } else {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  using namespace std::chrono;
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  sys_days days{ymd};
  if (date_only && upper_bound) days += std::chrono::days{1};
  auto tp = sys_seconds{days} + hours{h} + minutes{mi} + seconds{sec};
  return duration_cast<milliseconds>(tp.time_since_epoch()).count();
}

const char* group_by_name(UsageGroupBy by) { return group_name(by); }

}  // namespace warden::telemetry
