// `telemetry:` section.
#include "sections.hpp"

namespace warden::config::sections {

void parse_telemetry(MapReader& root, Config& cfg) {
  auto m = root.map("telemetry");
  m.str("service_name", cfg.telemetry.service_name);
  auto o = m.map("otlp");
  if (o.str("endpoint", cfg.telemetry.otlp.endpoint) && cfg.telemetry.otlp.endpoint.rfind("http://", 0) != 0 &&
      cfg.telemetry.otlp.endpoint.rfind("https://", 0) != 0)
    o.ctx().error(o.get("endpoint")->value_pos, o.field("endpoint") + ": must start with http:// or https://");
  o.number("sample", cfg.telemetry.otlp.sample, 0.0, 1.0);
}

}  // namespace warden::config::sections
