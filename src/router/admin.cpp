#include "warden/router/admin.hpp"

#include "warden/config/config.hpp"
#include "warden/router/circuit_breaker.hpp"

namespace warden::router {

void register_admin_endpoints(server::EndpointTable& admin) {
  admin.add("GET", "/admin/breakers",
            [](server::Exchange& ex, std::shared_ptr<const config::Config> cfg) -> boost::asio::awaitable<void> {
              std::string body = cfg ? breakers_json(*cfg) : std::string(R"({"targets":[]})");
              co_await ex.respond(200, "application/json", std::move(body));
            });
}

}  // namespace warden::router
