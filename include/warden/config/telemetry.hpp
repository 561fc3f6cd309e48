#pragma once
// `telemetry:` — OTLP traces export.
#include <string>

namespace warden::config {

struct OtlpConfig {
  std::string endpoint;  // e.g. http://127.0.0.1:4318 ; empty = off
  double sample = 1.0;
};

struct TelemetryConfig {
  OtlpConfig otlp;
  std::string service_name = "warden";
};

}  // namespace warden::config
