#pragma once
// Everything one request carries through the policy chain, router and telemetry.
// Owned by the session for the request's lifetime; touched only on its executor.
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "warden/api/chat_request.hpp"
#include "warden/api/stream_event.hpp"
#include "warden/common/error.hpp"

namespace warden::config {
struct Config;
}

namespace warden::policy {

enum class WireFormat { OpenAI, Anthropic };

struct Caller {
  std::string key_id;  // config key id or virtual key id; never the key itself
  std::string team;
  std::vector<std::string> allowed_models;  // key-level restriction; empty = team's list
};

struct RequestContext {
  std::string request_id;
  std::shared_ptr<const config::Config> config;  // pinned for the whole request
  WireFormat wire = WireFormat::OpenAI;
  std::string endpoint;                        // e.g. "/v1/chat/completions"
  std::map<std::string, std::string> headers;  // request headers, lower-case names
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

  Caller caller;
  api::ChatRequest request;  // decoded body; filters may rewrite it
  std::string alias;         // the model name the caller asked for
  std::string workload;      // x-warden-workload
  std::string data_class;    // x-warden-data-class

  // Set by a filter that answers locally (FilterStatus::Reply).
  std::optional<Error> reply;
  std::vector<std::pair<std::string, std::string>> response_headers;  // added to the answer
  // Set by a filter that answers locally with SUCCESS (response cache hit) and returns
  // Continue: the pipeline replays these events through on_event/encode instead of
  // dispatching upstream. Null = go upstream.
  std::shared_ptr<const std::vector<api::StreamEvent>> local_answer;

  // Filled as the request proceeds; read by telemetry in on_complete.
  std::string target;  // "provider/model" that answered
  int attempts = 0;
  int status = 0;      // final HTTP status sent to the caller
  api::Usage usage;
  double cost_usd = 0;
  std::string finish_reason;
  std::optional<std::chrono::steady_clock::time_point> first_token_at;
  std::map<std::string, int64_t> decisions;  // policy decisions for audit/metrics, e.g. "dlp.email.redact" → 2
};

}  // namespace warden::policy
