// The usage ledger against a real SQLite file: rows written by the background thread,
// grouped reports, time ranges, and the three output formats.
#include <sqlite3.h>

#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <random>
#include <string>

#include "warden/telemetry/audit/audit_log.hpp"
#include "warden/telemetry/usage/usage_ledger.hpp"

using namespace warden::telemetry;

namespace {

std::string temp_state_dir() {
  auto dir = std::filesystem::temp_directory_path() /
             ("warden-ledger-" + std::to_string(std::random_device{}()) + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir);
  return dir.string();
}

UsageRow row(int64_t ts, std::string key, std::string team, std::string target, int64_t prompt, int64_t completion,
             double cost, int status = 200) {
  UsageRow r;
  r.ts_ms = ts;
  r.request_id = "req-" + std::to_string(ts);
  r.key_id = std::move(key);
  r.team = std::move(team);
  r.alias = "fast";
  r.target = std::move(target);
  r.prompt_tokens = prompt;
  r.cache_hit_tokens = prompt / 2;
  r.completion_tokens = completion;
  r.reasoning_tokens = completion / 4;
  r.cost_usd = cost;
  r.latency_ms = 12.5;
  r.status = status;
  return r;
}

// Runs `body` in a child process that then _exit()s at once (no destructor, no flush: what
// kill -9 leaves behind). True when the child got through `body`.
template <class Body>
bool crashed_after(Body body) {
  pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) {
    ::_exit(body() ? 0 : 2);
  }
  int status = 0;
  return ::waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

constexpr int64_t kDay = 86'400'000;
constexpr int64_t k2026_11_23 = 1'795'392'000'000;  // 2026-11-23T00:00:00Z

}  // namespace

TEST_CASE("usage ledger: rows land in usage.db and reports group them") {
  const std::string dir = temp_state_dir();
  {
    auto ledger = UsageLedger::open(dir);
    REQUIRE(ledger);
    CHECK((*ledger)->append(row(k2026_11_23 + 1000, "k1", "t1", "up/flash", 100, 40, 0.25)));
    CHECK((*ledger)->append(row(k2026_11_23 + 2000, "k2", "t1", "up/pro", 10, 4, 0.5, 502)));
    CHECK((*ledger)->append(row(k2026_11_23 + kDay + 5, "k3", "t2", "up/flash", 1, 1, 1.0)));
    (*ledger)->flush();
    CHECK((*ledger)->written() == 3);
  }
  // Read the file directly: one row per request with every column.
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(usage_db_path(dir).c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db,
                             "SELECT request_id,key_id,team,target,prompt_tokens,cache_hit_tokens,completion_tokens,"
                             "reasoning_tokens,cost_usd,status FROM usage ORDER BY ts_ms",
                             -1, &st, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  CHECK(std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 0))) == "req-" + std::to_string(k2026_11_23 + 1000));
  CHECK(std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 1))) == "k1");
  CHECK(sqlite3_column_int64(st, 4) == 100);
  CHECK(sqlite3_column_int64(st, 5) == 50);
  CHECK(sqlite3_column_int64(st, 6) == 40);
  CHECK(sqlite3_column_int64(st, 7) == 10);
  CHECK(sqlite3_column_double(st, 8) == Approx(0.25));
  CHECK(sqlite3_column_int(st, 9) == 200);
  int n = 1;
  while (sqlite3_step(st) == SQLITE_ROW) ++n;
  CHECK(n == 3);
  sqlite3_finalize(st);
  std::string mode;
  sqlite3_exec(
      db, "PRAGMA journal_mode",
      [](void* out, int, char** v, char**) {
        *static_cast<std::string*>(out) = v[0];
        return 0;
      },
      &mode, nullptr);
  CHECK(mode == "wal");
  sqlite3_close(db);

  auto by_team = usage_report(dir, UsageGroupBy::Team, 0, INT64_MAX);
  REQUIRE(by_team);
  REQUIRE(by_team->size() == 2);
  CHECK((*by_team)[0].name == "t1");
  CHECK((*by_team)[0].requests == 2);
  CHECK((*by_team)[0].errors == 1);
  CHECK((*by_team)[0].prompt_tokens == 110);
  CHECK((*by_team)[0].completion_tokens == 44);
  CHECK((*by_team)[0].cost_usd == Approx(0.75));
  CHECK((*by_team)[1].name == "t2");

  auto by_model = usage_report(dir, UsageGroupBy::Model, 0, INT64_MAX);
  REQUIRE(by_model);
  REQUIRE(by_model->size() == 2);
  CHECK((*by_model)[0].name == "up/flash");
  CHECK((*by_model)[0].requests == 2);
  CHECK((*by_model)[0].cost_usd == Approx(1.25));

  // One day only: --from 2026-11-23 --to 2026-11-23 includes that whole day and not the next.
  auto from = parse_report_time("2026-11-23", false);
  auto to = parse_report_time("2026-11-23", true);
  REQUIRE(from);
  REQUIRE(to);
  CHECK(*from == k2026_11_23);
  CHECK(*to == k2026_11_23 + kDay);
  auto day = usage_report(dir, UsageGroupBy::Key, *from, *to);
  REQUIRE(day);
  REQUIRE(day->size() == 2);
  CHECK((*day)[0].name == "k1");
  CHECK((*day)[1].name == "k2");
  std::filesystem::remove_all(dir);
}

TEST_CASE("usage ledger: a missing database is an empty report") {
  const std::string dir = temp_state_dir();
  auto r = usage_report(dir, UsageGroupBy::Team, 0, INT64_MAX);
  REQUIRE(r);
  CHECK(r->empty());
  std::filesystem::remove_all(dir);
}

TEST_CASE("usage ledger: report times") {
  CHECK(parse_report_time("2026-11-23T10:00:00Z", false) == k2026_11_23 + 10 * 3'600'000);
  CHECK(parse_report_time("1795392000000", false) == k2026_11_23);
  CHECK_FALSE(parse_report_time("2026-13-01", false));
  CHECK_FALSE(parse_report_time("2026-02-30", false));
  CHECK_FALSE(parse_report_time("yesterday", false));
  CHECK_FALSE(parse_report_time("2026-11-23T10:00:00", false));
}

TEST_CASE("usage ledger: json, csv and table renderings carry the same totals") {
  std::vector<UsageGroup> groups(2);
  groups[0].name = "alpha";
  groups[0].requests = 3;
  groups[0].prompt_tokens = 30;
  groups[0].cost_usd = 0.5;
  groups[1].name = "b,eta";
  groups[1].requests = 1;
  groups[1].prompt_tokens = 12;
  groups[1].cost_usd = 0.25;
  const std::string json = usage_report_json(groups, UsageGroupBy::Team);
  CHECK(json.find(R"("by":"team")") != std::string::npos);
  CHECK(json.find(R"({"name":"alpha","requests":3,)") != std::string::npos);
  CHECK(json.find(R"("total":{"requests":4,"errors":0,"prompt_tokens":42,)") != std::string::npos);
  CHECK(json.find(R"("cost_usd":0.75})") != std::string::npos);
  const std::string csv = usage_report_csv(groups, UsageGroupBy::Key);
  CHECK(csv.rfind("key,requests,errors,prompt_tokens,cache_hit_tokens,completion_tokens,reasoning_tokens,cost_usd\n", 0) == 0);
  CHECK(csv.find("\"b,eta\",1,0,12,0,0,0,0.250000\n") != std::string::npos);
  const std::string table = usage_report_table(groups, UsageGroupBy::Model);
  CHECK(table.find("TOTAL") != std::string::npos);
  CHECK(table.find("0.750000") != std::string::npos);
}

// Issue 15 defect 3: a process killed before its writer committed loses no appended row.
// The child appends and _exit()s at once (no destructor, no flush: what kill -9 leaves);
// the next open() replays the journal into usage.db, exactly once per row.
TEST_CASE("usage ledger: rows appended before a crash are replayed from the journal, once") {
  const std::string dir = temp_state_dir();
  constexpr int kRows = 300;
  REQUIRE(crashed_after([&] {
    auto ledger = UsageLedger::open(dir);
    if (!ledger) return false;
    for (int i = 0; i < kRows; ++i) {
      auto r = row(k2026_11_23 + i, "k1", "t1", "up/flash", 10, 5, 0.01);
      r.error_code = i % 7 == 0 ? "odd\x1f\nvalue\\" : "";  // escaping round-trips
      (*ledger)->append(std::move(r));
    }
    return true;
  }));
  {
    auto ledger = UsageLedger::open(dir);
    REQUIRE(ledger);
    CHECK((*ledger)->replayed() <= kRows);
  }
  {
    auto reopened = UsageLedger::open(dir);  // nothing left to replay, nothing doubled
    REQUIRE(reopened);
    CHECK((*reopened)->replayed() == 0);
  }
  auto total = usage_report(dir, UsageGroupBy::Team, 0, INT64_MAX);
  REQUIRE(total);
  REQUIRE(total->size() == 1);
  CHECK((*total)[0].requests == kRows);
  CHECK((*total)[0].prompt_tokens == 10 * kRows);
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(usage_db_path(dir).c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM usage WHERE error_code=?", -1, &st, nullptr) == SQLITE_OK);
  const std::string odd = "odd\x1f\nvalue\\";
  sqlite3_bind_text(st, 1, odd.data(), static_cast<int>(odd.size()), SQLITE_TRANSIENT);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  CHECK(sqlite3_column_int(st, 0) == (kRows + 6) / 7);
  sqlite3_finalize(st);
  sqlite3_close(db);
  std::filesystem::remove_all(dir);
}

// The audit record is written before the ledger row: a crash between the two leaves a
// record without a row. open() with the audit file fills exactly those in (chat records
// only: a /v1/models record has no alias), so ledger rows == audit records.
TEST_CASE("usage ledger: audit records the ledger lacks become rows at open, once") {
  const std::string dir = temp_state_dir();
  const std::string audit = dir + "/audit.jsonl";
  {
    AuditLog log(audit, "sekrit", "none", 100);
    for (const char* id : {"r1", "r2", "r3"}) {
      AuditEvent ev;
      ev.request_id = id;
      ev.team = "t1";
      ev.alias = "fast";
      ev.target = "up/flash";
      ev.status = 200;
      ev.prompt_tokens = 7;
      ev.completion_tokens = 3;
      ev.cost_usd = 0.5;
      log.append(ev);
    }
    AuditEvent models;  // GET /v1/models: audited, never a ledger row
    models.request_id = "m1";
    models.status = 200;
    log.append(models);
    AuditEvent refused;  // a refused chat request is a row too (with its code)
    refused.request_id = "r4";
    refused.alias = "fast";
    refused.status = 402;
    refused.decisions["refused.budget_exceeded"] = 1;
    log.append(refused);
  }
  {
    auto ledger = UsageLedger::open(dir);
    REQUIRE(ledger);
    UsageRow r1;
    r1.ts_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch()).count();
    r1.request_id = "r1";
    r1.team = "t1";
    r1.alias = "fast";
    r1.status = 200;
    REQUIRE((*ledger)->append(r1));
    (*ledger)->flush();
  }
  {
    auto ledger = UsageLedger::open(dir, 65536, audit);
    REQUIRE(ledger);
    CHECK((*ledger)->replayed() == 3);
  }
  {
    auto again = UsageLedger::open(dir, 65536, audit);
    REQUIRE(again);
    CHECK((*again)->replayed() == 0);
  }
  auto groups = usage_report(dir, UsageGroupBy::Team, 0, INT64_MAX);
  REQUIRE(groups);
  int64_t requests = 0, errors = 0, prompt = 0;
  for (const auto& g : *groups) requests += g.requests, errors += g.errors, prompt += g.prompt_tokens;
  CHECK(requests == 4);
  CHECK(errors == 1);
  CHECK(prompt == 14);
  std::filesystem::remove_all(dir);
}

// Past half a journal the writer switches to the other one and empties the first once its
// rows are committed: a crash after several switches still loses nothing and doubles nothing.
TEST_CASE("usage ledger: journal switches keep every row exactly once across a crash") {
  const std::string dir = temp_state_dir();
  constexpr int kBefore = 60000;  // ~4.5 MB of journal lines: past the 4 MiB switch
  constexpr int kAfter = 500;
  REQUIRE(crashed_after([&] {
    auto ledger = UsageLedger::open(dir, 1 << 20);
    if (!ledger) return false;
    for (int i = 0; i < kBefore; ++i) (*ledger)->append(row(k2026_11_23 + i, "k1", "t1", "up/flash", 1, 1, 0.0));
    (*ledger)->flush();
    for (int i = 0; i < kAfter; ++i) (*ledger)->append(row(k2026_11_23 + kBefore + i, "k1", "t1", "up/flash", 1, 1, 0.0));
    return true;
  }));
  {
    auto ledger = UsageLedger::open(dir);
    REQUIRE(ledger);
  }
  auto total = usage_report(dir, UsageGroupBy::Team, 0, INT64_MAX);
  REQUIRE(total);
  REQUIRE(total->size() == 1);
  CHECK((*total)[0].requests == kBefore + kAfter);
  std::filesystem::remove_all(dir);
}
