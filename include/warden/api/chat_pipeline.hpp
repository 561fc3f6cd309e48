#pragma once
// The wire-agnostic path of one chat request (DESIGN §2): decode with the caller's codec →
// request filters → router::dispatch → response filters per event → encode (stream) or
// aggregate (non-stream) → on_complete → access log. OpenAI and Anthropic endpoints are
// this function with a different codec.
#include <boost/asio/awaitable.hpp>
#include <memory>

#include "warden/api/chat_codec.hpp"
#include "warden/server/exchange.hpp"

namespace warden::config {
struct Config;
}

namespace warden::api {

// Runs on the exchange's executor; returns once the response is complete. Client
// disconnect (the server cancels this coroutine, or a write fails) cancels dispatch.
boost::asio::awaitable<void> run_chat(server::Exchange& exchange, std::shared_ptr<const config::Config> config,
                                      ChatCodec& codec);

// Request headers the policy chain and router may read, copied into RequestContext::headers
// with lower-case names (Exchange has lookup only).
const std::vector<std::string_view>& context_header_names();

}  // namespace warden::api
