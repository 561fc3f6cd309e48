#pragma once
// Router state for operators: GET /admin/breakers on the admin listener → breakers_json()
// of the pinned config (every target: breaker state, failures in window, opens, in-flight).
#include "warden/server/endpoint_table.hpp"

namespace warden::router {

void register_admin_endpoints(server::EndpointTable& admin);

}  // namespace warden::router
