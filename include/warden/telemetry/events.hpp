#pragma once
// Counters other modules bump where an event happens (one line at the call site).
#include <string_view>

namespace warden::telemetry {

// warden_config_reloads_total{result="ok"|"error"}
void count_config_reload(bool ok);

}  // namespace warden::telemetry
