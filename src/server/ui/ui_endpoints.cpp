#include "ui.hpp"

namespace warden::server::ui {

void register_ui(EndpointTable& admin) {
  auto serve = [](Exchange& ex, std::shared_ptr<const config::Config>) -> asio::awaitable<void> {
    // No inline-script ban: the page is one file by design; everything else stays same-origin.
    ex.add_header("content-security-policy",
                  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:");
    ex.add_header("cache-control", "no-store");
    ex.add_header("x-content-type-options", "nosniff");
    co_await ex.respond(200, "text/html; charset=utf-8", std::string(page_html()));
  };
  admin.add("GET", "/ui", serve);
  admin.add("GET", "/ui/", serve);
}

}  // namespace warden::server::ui
