#pragma once
// Tamper-evident audit trail: append-only JSONL, one record per answered request.
// Each line is `{...fields...,"prev":"<hex>","hash":"<hex>"}` where hash =
// SHA-256 of the line's text up to (not including) `,"hash":`. `seq` counts up by one
// across rotations. Every `checkpoint_every` records a checkpoint record carries
// HMAC-SHA256(secret, previous hash), so rewriting the whole chain needs the secret.
// append() writes the record (one write(2) into the page cache, under one mutex, so a
// killed process loses no appended record); one background thread fdatasyncs per policy
// (`batch`/`always`: whatever was written since its last sync), never an I/O thread.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace warden::telemetry {

struct AuditEvent {
  std::string time;  // RFC 3339 UTC, filled by append() when empty
  std::string type = "request";  // "request" (a caller's request) | "admin" (an admin API mutation)
  std::string action;            // admin records: e.g. "keys.create", "keys.revoke"; written when set
  std::string request_id;
  std::string key_id;
  std::string team;
  std::string alias;
  std::string target;
  int status = 0;
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t cache_hit_tokens = 0;
  double cost_usd = 0;
  int64_t latency_ms = 0;
  std::map<std::string, int64_t> decisions;
};

inline constexpr const char* kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

class AuditLog {
 public:
  // Opens (creating) `path`, recovers the chain head from the last good record (a torn
  // tail from a crash is cut off) and starts the writer. Throws std::runtime_error.
  AuditLog(std::string path, std::string secret, std::string fsync_mode = "batch",
           int64_t checkpoint_every = 100, int64_t max_bytes = 0);
  ~AuditLog();  // drains the queue

  // Thread-safe; writes the record to the file before returning, never waits for a sync.
  void append(AuditEvent ev);
  // Blocks until everything appended so far is synced per policy.
  void flush();

  const std::string& path() const { return path_; }
  int64_t recovered_torn_bytes() const { return torn_bytes_; }

  // The line for a record body (without prev/hash) chained after `prev`.
  static std::string seal(const std::string& body_without_braces_end, const std::string& prev,
                          std::string* hash_out);

 private:
  void run();
  void write_record(const AuditEvent& ev);  // under mu_
  void write_out(std::string& out);
  void open_file();
  void maybe_rotate();
  std::string next_line(const std::string& body);

  std::string path_;
  std::string secret_;
  std::string fsync_mode_;
  int64_t checkpoint_every_;
  int64_t max_bytes_;
  int fd_ = -1;
  int64_t size_ = 0;
  int64_t torn_bytes_ = 0;
  // Chain head: under mu_ after construction.
  std::string head_ = kGenesisHash;
  int64_t seq_ = 0;
  int64_t since_checkpoint_ = 0;

  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable done_cv_;
  uint64_t written_ = 0;  // records written to the file
  uint64_t synced_ = 0;   // records covered by a completed sync (all of them with fsync none)
  bool dirty_ = false;    // written since the writer's last sync
  std::vector<int> retired_fds_;  // rotated-away files for the writer to sync and close
  bool stop_ = false;
  std::thread thread_;
};

struct VerifyReport {
  bool ok = true;
  int64_t records = 0;
  int64_t checkpoints = 0;
  int64_t checkpoints_verified = 0;  // HMAC checked (secret known)
  std::string first_bad;             // "FILE:LINE (seq N): reason"
};

// Verifies the chain over `files` in order (a rotated set: oldest first). `secret` empty =
// checkpoint HMACs are not checked. A file whose first record does not start at the
// genesis hash is accepted as a continuation when it is the first file given.
VerifyReport verify_audit_files(const std::vector<std::string>& files, const std::string& secret);

}  // namespace warden::telemetry
