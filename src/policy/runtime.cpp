#include "warden/policy/runtime.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "warden/config/config.hpp"
#include "warden/policy/auth/key_store.hpp"
#include "warden/policy/budget/budget_ledger.hpp"
#include "warden/policy/crypto.hpp"
#include "warden/policy/ratelimit/rate_limiter.hpp"
#include "warden/telemetry/audit/audit_log.hpp"

namespace warden::policy {

using telemetry::AuditLog;

std::string load_or_create_secret(const std::string& state_dir) {
  namespace fs = std::filesystem;
  fs::path dir = state_dir.empty() ? fs::path(".") : fs::path(state_dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  fs::path file = dir / "secret";
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::ifstream in(file, std::ios::binary);
    if (in) {
      std::stringstream ss;
      ss << in.rdbuf();
      std::string s = ss.str();
      while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
      if (s.size() >= 32) return s;
    }
    // O_EXCL: two processes starting at once agree on one secret.
    int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd >= 0) {
      auto raw = random_bytes(32);
      std::string hex = to_hex(reinterpret_cast<const uint8_t*>(raw.data()), raw.size()) + "\n";
      bool ok = ::write(fd, hex.data(), hex.size()) == static_cast<ssize_t>(hex.size());
      ::fsync(fd);
      ::close(fd);
      if (ok) return hex.substr(0, 64);
    }
  }
  throw std::runtime_error("cannot read or create " + file.string());
}

StateDirLock::~StateDirLock() { ::close(fd_); }

std::unique_ptr<StateDirLock> lock_state_dir(const std::string& state_dir, std::string* error) {
  namespace fs = std::filesystem;
  fs::path dir = state_dir.empty() ? fs::path(".") : fs::path(state_dir);
  std::error_code ec;
  fs::create_directories(dir, ec);
  const fs::path file = dir / "warden.lock";
  int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    *error = "cannot open " + file.string() + ": " + std::strerror(errno);
    return nullptr;
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    char pid[32] = {};
    [[maybe_unused]] auto n = ::pread(fd, pid, sizeof pid - 1, 0);
    std::string holder(pid);
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    ::close(fd);
    *error = err == EWOULDBLOCK
                 ? "state_dir " + dir.string() + " is in use by another warden" +
                       (holder.empty() ? std::string() : " (pid " + holder + ")") +
                       "; two servers sharing one state_dir would corrupt its audit chain and budgets — give each its own state_dir"
                 : "cannot lock " + file.string() + ": " + std::strerror(err);
    return nullptr;
  }
  const std::string me = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) == 0) {
    [[maybe_unused]] auto n = ::pwrite(fd, me.data(), me.size(), 0);
  }
  return std::make_unique<StateDirLock>(fd);
}

Runtime::Runtime(std::string state_dir) : state_dir_(std::move(state_dir)) {}
Runtime::~Runtime() = default;

Runtime& Runtime::for_state_dir(const std::string& state_dir) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<Runtime>> all;
  std::string key = std::filesystem::weakly_canonical(state_dir.empty() ? "." : state_dir).string();
  std::lock_guard lock(mu);
  auto& slot = all[key];
  if (!slot) slot = std::make_unique<Runtime>(state_dir);
  return *slot;
}

Runtime& Runtime::for_config(const config::Config& cfg) {
  // Requests call this per filter; remember the last answer per snapshot to skip the map.
  // (A freed snapshot's address can be reused, so the state_dir is compared too.)
  thread_local const config::Config* last_cfg = nullptr;
  thread_local std::string last_dir;
  thread_local Runtime* last = nullptr;
  if (last && last_cfg == &cfg && last_dir == cfg.state_dir) return *last;
  Runtime& rt = for_state_dir(cfg.state_dir);
  last_cfg = &cfg;
  last_dir = cfg.state_dir;
  last = &rt;
  return rt;
}

const std::string& Runtime::secret() {
  std::lock_guard lock(mu_);
  if (secret_.empty()) secret_ = load_or_create_secret(state_dir_);
  return secret_;
}

KeyStore* Runtime::keys() {
  std::lock_guard lock(mu_);
  if (!keys_tried_) {
    keys_tried_ = true;
    try {
      keys_ = std::make_unique<KeyStore>(state_dir_);
    } catch (const std::exception& e) {
      spdlog::error("virtual keys unavailable: {}", e.what());
    }
  }
  return keys_.get();
}

RateLimiter& Runtime::limiter() {
  std::lock_guard lock(mu_);
  if (!limiter_) limiter_ = std::make_unique<RateLimiter>();
  return *limiter_;
}

BudgetLedger* Runtime::ledger() {
  std::lock_guard lock(mu_);
  if (!ledger_tried_) {
    ledger_tried_ = true;
    try {
      ledger_ = std::make_unique<BudgetLedger>(state_dir_);
    } catch (const std::exception& e) {
      spdlog::error("budget ledger unavailable: {}", e.what());
    }
  }
  return ledger_.get();
}

AuditLog* Runtime::audit(const config::Config& cfg) {
  if (cfg.audit.file.empty()) return nullptr;
  std::filesystem::path p(cfg.audit.file);
  if (p.is_relative()) p = std::filesystem::path(state_dir_.empty() ? "." : state_dir_) / p;
  std::lock_guard lock(mu_);
  if (!audit_ || audit_path_ != p.string()) {
    audit_path_ = p.string();
    try {
      if (secret_.empty()) secret_ = load_or_create_secret(state_dir_);
      // A log still referenced by in-flight requests of the old snapshot stays alive.
      if (audit_) retired_audits_.push_back(std::move(audit_));
      audit_ = std::make_unique<AuditLog>(audit_path_, secret_, cfg.audit.fsync, cfg.audit.checkpoint_every,
                                          cfg.audit.max_bytes);
    } catch (const std::exception& e) {
      spdlog::error("audit log unavailable: {}", e.what());
      audit_.reset();
    }
  }
  return audit_.get();
}

}  // namespace warden::policy
