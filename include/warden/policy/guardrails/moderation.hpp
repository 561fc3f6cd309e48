#pragma once
// External moderation (`guardrails.moderation`): the request's text goes to an
// OpenAI-compatible POST /v1/moderations, and any flagged result refuses the request.
// A call that fails (connect error, timeout, non-200, unreadable answer) follows
// `on_failure`: open lets the request through (counted), closed refuses it (503
// moderation_unavailable). Runs on the request's executor; the connection pool per
// moderation URL is shared and thread-safe.
#include <boost/asio/awaitable.hpp>
#include <string>
#include <vector>

namespace warden::config {
struct Config;
}

namespace warden::policy {

enum class ModerationVerdict { Allowed, Flagged, Failed };

struct ModerationResult {
  ModerationVerdict verdict = ModerationVerdict::Allowed;
  std::string why;  // Failed: for the operator log (never request text)
};

boost::asio::awaitable<ModerationResult> moderate(const config::Config& cfg, const std::vector<std::string>& texts);

}  // namespace warden::policy
