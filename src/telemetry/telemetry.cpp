#include "warden/telemetry/telemetry.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <filesystem>

#include "warden/config/config.hpp"
#include "warden/telemetry/tracing/otlp_exporter.hpp"
#include "warden/telemetry/usage/usage_ledger.hpp"

namespace warden::telemetry {

namespace {
std::atomic<Runtime*> g_runtime{nullptr};
}

Runtime* current_runtime() { return g_runtime.load(std::memory_order_acquire); }

std::unique_ptr<Runtime> Runtime::start(const config::Config& cfg) {
  std::unique_ptr<Runtime> rt(new Runtime());
  rt->state_dir_ = cfg.state_dir;
  std::string audit_file;
  if (!cfg.audit.file.empty()) {
    std::filesystem::path p(cfg.audit.file);  // resolved as policy::Runtime::audit does
    if (p.is_relative()) p = std::filesystem::path(cfg.state_dir.empty() ? "." : cfg.state_dir) / p;
    audit_file = p.string();
  }
  auto ledger = UsageLedger::open(cfg.state_dir, 65536, audit_file);
  if (ledger) {
    rt->ledger_ = std::move(*ledger);
    if (rt->ledger_->replayed() > 0)
      spdlog::warn("usage ledger: {} row(s) of requests finished before a crash recovered from the journal/audit trail",
                   rt->ledger_->replayed());
  } else {
    spdlog::error("usage ledger off: {}", ledger.error().message);
  }
  if (!cfg.telemetry.otlp.endpoint.empty()) {
    OtlpExporterOptions options;
    options.endpoint = cfg.telemetry.otlp.endpoint;
    options.service_name = cfg.telemetry.service_name;
    auto exporter = OtlpExporter::create(std::move(options));
    if (exporter) {
      rt->exporter_ = std::move(*exporter);
      rt->sample_ = cfg.telemetry.otlp.sample;
    } else {
      spdlog::error("OTLP traces off: {}", exporter.error().message);
    }
  }
  g_runtime.store(rt.get(), std::memory_order_release);
  return rt;
}

Runtime::~Runtime() {
  Runtime* self = this;
  g_runtime.compare_exchange_strong(self, nullptr);
  // Members stop in reverse order: the exporter sends its queue, the ledger commits its rows.
}

}  // namespace warden::telemetry
