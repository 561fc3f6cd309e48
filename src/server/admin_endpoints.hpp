#pragma once
#include "server_state.hpp"
#include "warden/server/exchange.hpp"

namespace warden::server {

// Adds /admin/config (needs the Server's state, so it is registered by the Server itself).
void register_server_admin_endpoints(EndpointTable& table, ServerState& state);

}  // namespace warden::server
