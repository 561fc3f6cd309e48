#include "warden/policy/admin/admin_endpoints.hpp"

#include <charconv>
#include <cmath>

#include "admin_support.hpp"

namespace warden::policy::admin {

std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest text that reads back the same
  return std::string(buf, r.ptr);
}

void register_admin_endpoints(server::EndpointTable& admin) {
  register_keys(admin);   // /admin/keys, /admin/keys/{id}, /admin/keys/{id}/rotate
  register_teams(admin);  // /admin/teams
}

}  // namespace warden::policy::admin
