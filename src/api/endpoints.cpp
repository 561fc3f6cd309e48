// Registers the gateway's model-facing endpoints (OpenAI now; Anthropic as it lands).
#include "warden/api/endpoints.hpp"

namespace warden::api {

void register_endpoints(server::EndpointTable& table) {
  (void)table;  // endpoints are added as the chat pipeline lands
}

}  // namespace warden::api
