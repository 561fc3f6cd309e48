#pragma once
// The gateway's model-facing endpoints (OpenAI, later Anthropic), registered by `serve`.
#include "warden/server/endpoint_table.hpp"

namespace warden::api {

// Registers POST /v1/chat/completions, GET /v1/models (and the other wire formats'
// endpoints as they exist). Handlers get the pinned config snapshot per request.
void register_endpoints(server::EndpointTable& table);

}  // namespace warden::api
