// The audit trail through real files: write with AuditLog, tamper with the bytes, verify.
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "warden/telemetry/audit/audit_log.hpp"

using namespace warden::telemetry;

namespace {

std::string scratch(const std::string& tag) {
  std::random_device rd;
  auto dir = std::filesystem::temp_directory_path() / ("warden-audit-" + tag + std::to_string(rd()) + std::to_string(rd()));
  std::filesystem::create_directories(dir);
  return dir.string();
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  std::string l;
  while (std::getline(in, l)) out.push_back(l);
  return out;
}

void write_lines(const std::string& path, const std::vector<std::string>& lines) {
  std::ofstream out(path, std::ios::trunc);
  for (const auto& l : lines) out << l << "\n";
}

void fill(const std::string& path, int n, int checkpoint_every = 4, int64_t max_bytes = 0) {
  AuditLog log(path, "sekrit", "batch", checkpoint_every, max_bytes);
  for (int i = 0; i < n; ++i) {
    AuditEvent ev;
    ev.request_id = "req-" + std::to_string(i);
    ev.key_id = "ci-bot";
    ev.team = "platform";
    ev.alias = "fast";
    ev.target = "deepseek/deepseek-chat";
    ev.status = 200;
    ev.prompt_tokens = 10 + i;
    ev.completion_tokens = 5;
    ev.cost_usd = 0.0001 * i;
    ev.decisions["dlp.email.redact"] = i % 2;
    log.append(ev);
  }
  log.flush();
}

}  // namespace

TEST_CASE("audit: a fresh log verifies, with HMAC checkpoints", "[audit]") {
  auto dir = scratch("ok");
  auto path = dir + "/audit.jsonl";
  fill(path, 10);
  auto lines = read_lines(path);
  CHECK(lines.size() == 12);  // 10 records + 2 checkpoints (every 4)
  auto r = verify_audit_files({path}, "sekrit");
  INFO(r.first_bad);
  CHECK(r.ok);
  CHECK(r.records == 10);
  CHECK(r.checkpoints == 2);
  CHECK(r.checkpoints_verified == 2);
  // The wrong secret fails at the first checkpoint.
  auto wrong = verify_audit_files({path}, "other");
  CHECK_FALSE(wrong.ok);
  CHECK(wrong.first_bad.find("seq 5") != std::string::npos);
  // No prompt text field exists in records.
  CHECK(lines[0].find("\"messages\"") == std::string::npos);
}

TEST_CASE("audit: edit, deletion, insertion and reorder each name the first bad record", "[audit]") {
  auto dir = scratch("tamper");
  auto path = dir + "/audit.jsonl";
  fill(path, 8, 100);
  auto good = read_lines(path);
  REQUIRE(good.size() == 8);

  SECTION("edit") {
    auto lines = good;
    auto at = lines[3].find("\"status\":200");
    REQUIRE(at != std::string::npos);
    lines[3].replace(at, 12, "\"status\":500");
    write_lines(path, lines);
    auto r = verify_audit_files({path}, "sekrit");
    CHECK_FALSE(r.ok);
    CHECK(r.first_bad.find(":4 (seq 4)") != std::string::npos);
  }
  SECTION("deletion") {
    auto lines = good;
    lines.erase(lines.begin() + 2);
    write_lines(path, lines);
    auto r = verify_audit_files({path}, "sekrit");
    CHECK_FALSE(r.ok);
    CHECK(r.first_bad.find("(seq 4)") != std::string::npos);
  }
  SECTION("insertion of a copied record") {
    auto lines = good;
    lines.insert(lines.begin() + 5, lines[1]);
    write_lines(path, lines);
    auto r = verify_audit_files({path}, "sekrit");
    CHECK_FALSE(r.ok);
    CHECK(r.first_bad.find(":6 (seq 2)") != std::string::npos);
  }
  SECTION("reorder") {
    auto lines = good;
    std::swap(lines[5], lines[6]);
    write_lines(path, lines);
    auto r = verify_audit_files({path}, "sekrit");
    CHECK_FALSE(r.ok);
    CHECK(r.first_bad.find(":6 (seq 7)") != std::string::npos);
  }
}

TEST_CASE("audit: a torn last line is cut on reopen and the chain continues", "[audit]") {
  auto dir = scratch("torn");
  auto path = dir + "/audit.jsonl";
  fill(path, 3, 100);
  {
    std::ofstream out(path, std::ios::app);
    out << "{\"seq\":4,\"time\":\"2026-";  // what a crash mid-write leaves
  }
  auto before = verify_audit_files({path}, "");
  CHECK_FALSE(before.ok);
  CHECK(before.first_bad.find("torn") != std::string::npos);
  fill(path, 2, 100);  // restart: recovers head from record 3
  auto after = verify_audit_files({path}, "sekrit");
  INFO(after.first_bad);
  CHECK(after.ok);
  CHECK(after.records == 5);
}

TEST_CASE("audit: rotation keeps one chain across files", "[audit]") {
  auto dir = scratch("rot");
  auto path = dir + "/audit.jsonl";
  fill(path, 20, 5, 1500);
  std::vector<std::string> files;
  for (int n = 1; std::filesystem::exists(path + "." + std::to_string(n)); ++n) files.push_back(path + "." + std::to_string(n));
  REQUIRE(files.size() >= 2);
  files.push_back(path);
  auto r = verify_audit_files(files, "sekrit");
  INFO(r.first_bad);
  CHECK(r.ok);
  CHECK(r.records == 20);
  // Leaving out a middle file breaks the chain at the next file's first record.
  auto missing = files;
  missing.erase(missing.begin() + 1);
  CHECK_FALSE(verify_audit_files(missing, "sekrit").ok);
  // A reopened log after rotation continues the same chain.
  fill(path, 3, 5, 1500);
  files.clear();
  for (int n = 1; std::filesystem::exists(path + "." + std::to_string(n)); ++n) files.push_back(path + "." + std::to_string(n));
  files.push_back(path);
  auto r2 = verify_audit_files(files, "sekrit");
  INFO(r2.first_bad);
  CHECK(r2.ok);
  CHECK(r2.records == 23);
}

// Issue 15 defect 3: an appended record is in the file when append() returns, so a
// process killed right after (here: _exit without destructor or flush) loses none, and
// the chain it left verifies and continues on reopen.
TEST_CASE("audit: records appended before a crash are all in the file", "[audit]") {
  auto dir = scratch("crash");
  auto path = dir + "/audit.jsonl";
  constexpr int kRecords = 200;
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    AuditLog* log = new AuditLog(path, "sekrit", "batch", 50);  // never destroyed: a crash
    for (int i = 0; i < kRecords; ++i) {
      AuditEvent ev;
      ev.request_id = "req-" + std::to_string(i);
      ev.status = 200;
      log->append(ev);
    }
    ::_exit(0);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  auto r = verify_audit_files({path}, "sekrit");
  INFO(r.first_bad);
  CHECK(r.ok);
  CHECK(r.records == kRecords);
  CHECK(r.checkpoints == kRecords / 50);
  fill(path, 3, 50);  // the chain continues after the crash
  auto again = verify_audit_files({path}, "sekrit");
  INFO(again.first_bad);
  CHECK(again.ok);
  CHECK(again.records == kRecords + 3);
  std::filesystem::remove_all(dir);
}
