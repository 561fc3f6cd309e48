#pragma once
// A target's `params` (a JSON object from the config) merged into the outgoing request.
#include <string>

#include "warden/api/chat_request.hpp"

namespace warden::router {

// Fields the canonical request models (thinking, reasoning_effort, temperature, top_p,
// max_tokens, …) set the typed member; any other field goes to `extra`, replacing a
// caller-sent field of the same name. The target's value always wins: it is the
// operator's choice for that model (e.g. DeepSeek thinking on/off).
void apply_params(api::ChatRequest& req, const std::string& params_json);

}  // namespace warden::router
