#pragma once
// Policy state on the admin listener (behind admin_token, like every /admin/* path):
//   GET    /admin/keys[?team=T]          virtual keys (state_dir) and config keys; never a hash or key
//   POST   /admin/keys                    {"team","name","models"?,"expires"?} → 201, the key shown once
//   GET    /admin/keys/{id}               one key; 404 when unknown
//   DELETE /admin/keys/{id}               revoke (the next request with it gets 401)
//   POST   /admin/keys/{id}/rotate        new key, same team/name/models/expiry; the old one is revoked
//   GET    /admin/teams                   every configured team: budgets, spend this period, used
//                                         ratio per dimension, rate limits, key counts
// Errors are the server's admin shape {"error":{"message","type","param","code"}}: 400 for a
// bad body, 404 for an unknown id, 409 when the key cannot change (revoked, config-managed).
// Every mutation writes an audit record (type "admin") when audit.file is set.
#include "warden/server/endpoint_table.hpp"

namespace warden::policy::admin {

void register_admin_endpoints(server::EndpointTable& admin);

}  // namespace warden::policy::admin
