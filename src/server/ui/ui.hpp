#pragma once
// The /ui dashboard: one self-contained HTML page (inline JS/CSS/SVG, no CDN) embedded in
// the binary, served on the admin listener. The page itself holds no data; it asks for the
// admin token (or takes #token=... from the URL) and calls the admin JSON endpoints with
// `Authorization: Bearer`, so the shell may be fetched without the token.
#include <string_view>

#include "warden/server/endpoint_table.hpp"

namespace warden::server::ui {

std::string_view page_html();
// Adds GET /ui and GET /ui/ to the admin table.
void register_ui(EndpointTable& admin);

}  // namespace warden::server::ui
