#pragma once
// Telemetry for a serving process: the usage ledger and the OTLP span exporter, started by
// `warden serve` before the server runs and stopped (flushing both) when the returned
// object is destroyed. Settings are read once at start: telemetry.otlp and state_dir
// changes take effect on restart, not on reload.
#include <memory>
#include <string>

namespace warden::config {
struct Config;
}
namespace warden::server {
class EndpointTable;
}

namespace warden::telemetry {

class UsageLedger;
class OtlpExporter;

class Runtime {
 public:
  // Never fails: a ledger or exporter that cannot start is logged and left off.
  static std::unique_ptr<Runtime> start(const config::Config& cfg);
  ~Runtime();

  UsageLedger* ledger() const { return ledger_.get(); }
  OtlpExporter* exporter() const { return exporter_.get(); }
  double sample_ratio() const { return sample_; }
  const std::string& state_dir() const { return state_dir_; }

 private:
  Runtime() = default;
  std::unique_ptr<UsageLedger> ledger_;
  std::unique_ptr<OtlpExporter> exporter_;
  double sample_ = 1.0;
  std::string state_dir_;
};

// The running Runtime, or null (unit tests, CLI verbs): every hook then only updates metrics.
Runtime* current_runtime();

// GET /metrics (Prometheus text), /admin/usage, /admin/routes on the admin listener.
void register_admin_endpoints(server::EndpointTable& admin);

}  // namespace warden::telemetry
