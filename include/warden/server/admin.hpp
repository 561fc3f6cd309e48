#pragma once
// Admin endpoints live on server.admin_listen, behind `Authorization: Bearer <admin_token>`
// (checked by the server before any handler runs; /healthz is the only open path).
// Modules add theirs to this process-wide table BEFORE `serve` starts (e.g. from
// api::register_endpoints or from a register function called in serve_command.cpp);
// it is read-only once the server runs.
#include "warden/server/endpoint_table.hpp"

namespace warden::server {

EndpointTable& admin_endpoints();

}  // namespace warden::server
