#pragma once
// The whole YAML file as immutable structs. A Config is built once by load_config() and
// never changed; requests pin a std::shared_ptr<const Config> snapshot; reload builds a
// new one and swaps it into the ConfigStore. Sections live in their own headers so each
// module's owner can add fields without touching the others.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "warden/config/policy.hpp"
#include "warden/config/position.hpp"
#include "warden/config/providers.hpp"
#include "warden/config/routing.hpp"
#include "warden/config/server.hpp"
#include "warden/config/telemetry.hpp"

namespace warden::config {

struct Config {
  std::string source_file;  // path it was loaded from ("" for text)
  uint64_t generation = 0;  // set by whoever swaps it in (1 = first load)
  std::chrono::system_clock::time_point loaded_at{};

  ServerConfig server;
  std::string state_dir = "./var";
  std::map<std::string, ProviderConfig> providers;  // name → provider
  std::map<std::string, ModelRoute> models;         // alias → route
  RoutingConfig routing;
  std::map<std::string, ModelPrice> pricing;        // model id → prices
  std::map<std::string, Team> teams;                // name → team
  std::vector<KeyEntry> keys;
  DlpConfig dlp;
  GuardrailsConfig guardrails;
  AuditConfig audit;
  TelemetryConfig telemetry;
  CacheConfig cache;

  const ProviderConfig* provider(std::string_view name) const;
  const ModelRoute* model(std::string_view alias) const;
  const Team* team(std::string_view name) const;
  const KeyEntry* key_by_sha256(std::string_view hex) const;
};

// Looks up an environment variable; injectable for tests.
using EnvLookup = std::function<std::optional<std::string>(std::string_view)>;
EnvLookup process_env();

struct LoadResult {
  std::shared_ptr<Config> config;        // null when diagnostics has errors; freeze by storing as const
  std::vector<Diagnostic> diagnostics;   // every error found, in file order
  bool ok() const { return config != nullptr; }
};

// Parses + validates. Never throws. `${VAR}` / `${VAR:-default}` / `$$` are expanded in
// every scalar from `env`; a set-but-unused variable is fine, an unset one without a
// default is an error.
LoadResult load_config(const std::string& path, const EnvLookup& env = process_env());
LoadResult load_config_text(std::string_view yaml, const std::string& file_name,
                            const EnvLookup& env = process_env());

// Parses "host:port", "[v6]:port", ":port" (all interfaces). nullopt with `error` on failure.
std::optional<HostPort> parse_host_port(std::string_view text, std::string* error = nullptr);

// The live snapshot. Thread-safe; current() is lock-free on the read path.
class ConfigStore {
 public:
  explicit ConfigStore(std::shared_ptr<const Config> initial) : config_(std::move(initial)) {}
  std::shared_ptr<const Config> current() const { return config_.load(std::memory_order_acquire); }
  // Returns the previous snapshot (still alive while requests hold it).
  std::shared_ptr<const Config> swap(std::shared_ptr<const Config> next) {
    return config_.exchange(std::move(next), std::memory_order_acq_rel);
  }

 private:
  std::atomic<std::shared_ptr<const Config>> config_;
};

}  // namespace warden::config
