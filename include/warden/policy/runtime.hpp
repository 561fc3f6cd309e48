#pragma once
// Process-wide policy state that must outlive a config snapshot: the virtual-key store,
// rate-limit buckets, budget ledger, audit writer and the server secret. One Runtime per
// state_dir, created on first use and kept for the life of the process, so a reload that
// keeps the same team/key names keeps their counters. Thread-safe.
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace warden::config {
struct Config;
}

namespace warden::policy {

class KeyStore;
class RateLimiter;
class BudgetLedger;
}  // namespace warden::policy

namespace warden::telemetry {
class AuditLog;
}

namespace warden::policy {
using telemetry::AuditLog;

class Runtime {
 public:
  explicit Runtime(std::string state_dir);
  ~Runtime();

  // The Runtime for cfg.state_dir (the same object for the same directory).
  static Runtime& for_config(const config::Config& cfg);
  static Runtime& for_state_dir(const std::string& state_dir);

  const std::string& state_dir() const { return state_dir_; }
  // 32 random bytes kept in state_dir/secret (0600), made on first use. Keys user hashes
  // and audit checkpoints.
  const std::string& secret();
  // Null when warden.db cannot be opened (logged once); virtual keys then fail closed.
  KeyStore* keys();
  RateLimiter& limiter();
  BudgetLedger* ledger();
  // The audit writer for the config's audit file (null when audit is off or cannot open).
  AuditLog* audit(const config::Config& cfg);

 private:
  std::string state_dir_;
  std::mutex mu_;
  std::string secret_;
  bool keys_tried_ = false;
  std::unique_ptr<KeyStore> keys_;
  std::unique_ptr<RateLimiter> limiter_;
  bool ledger_tried_ = false;
  std::unique_ptr<BudgetLedger> ledger_;
  std::string audit_path_;
  std::unique_ptr<AuditLog> audit_;
  std::vector<std::unique_ptr<AuditLog>> retired_audits_;
};

// An exclusive lock on state_dir/warden.lock, held while the object lives (`warden serve`
// holds it for the process): two servers on one state_dir would interleave the audit
// chain and double-count budgets. Null with `error` set when another process holds it.
class StateDirLock {
 public:
  explicit StateDirLock(int fd) : fd_(fd) {}
  ~StateDirLock();
  StateDirLock(const StateDirLock&) = delete;
  StateDirLock& operator=(const StateDirLock&) = delete;

 private:
  int fd_;
};
std::unique_ptr<StateDirLock> lock_state_dir(const std::string& state_dir, std::string* error);

// Reads or creates the secret file; throws std::runtime_error when neither works.
std::string load_or_create_secret(const std::string& state_dir);

}  // namespace warden::policy
