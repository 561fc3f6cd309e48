// The admin endpoint table and the server's own admin endpoints.
#include "admin_endpoints.hpp"

#include "errors.hpp"
#include "warden/server/admin.hpp"

namespace warden::server {

EndpointTable& admin_endpoints() {
  static EndpointTable table;
  return table;
}

namespace {

void append_string_list(std::string& out, const std::vector<std::string>& items) {
  out += '[';
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    append_json_string(out, items[i]);
  }
  out += ']';
}

}  // namespace

void register_server_admin_endpoints(EndpointTable& table, ServerState& state) {
  // GET /admin/config: which file is loaded, its generation, and the last reload's outcome.
  // Names only: never keys, tokens or provider secrets.
  table.add("GET", "/admin/config",
            [&state](Exchange& ex, std::shared_ptr<const config::Config> cfg) -> asio::awaitable<void> {
              ReloadStatus last;
              {
                std::lock_guard lock(state.reload_mu);
                last = state.last_reload;
              }
              std::string out = R"({"file":)";
              append_json_string(out, state.config_path);
              out += R"(,"generation":)" + std::to_string(cfg->generation);
              out += R"(,"loaded_at":")" + iso8601_utc(cfg->loaded_at) + '"';
              out += R"(,"listen":)";
              append_json_string(out, state.listen_address);
              out += R"(,"draining":)";
              out += state.draining ? "true" : "false";
              out += R"(,"in_flight":)" + std::to_string(state.in_flight.load());
              std::vector<std::string> names;
              for (const auto& [name, p] : cfg->providers) names.push_back(name);
              out += R"(,"providers":)";
              append_string_list(out, names);
              names.clear();
              for (const auto& [alias, m] : cfg->models) names.push_back(alias);
              out += R"(,"models":)";
              append_string_list(out, names);
              out += R"(,"last_reload":)";
              if (last.at.empty()) {
                out += "null";
              } else {
                out += R"({"at":")" + last.at + R"(","trigger":")" + last.trigger + R"(","ok":)";
                out += last.ok ? "true" : "false";
                out += R"(,"errors":)";
                append_string_list(out, last.errors);
                out += '}';
              }
              out += '}';
              co_await ex.respond(200, "application/json", std::move(out));
            });
}

}  // namespace warden::server
