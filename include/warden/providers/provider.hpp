#pragma once
// A Provider answers one attempt of a canonical request (DESIGN §3). It is created per
// config snapshot and shared by every request on it, so stream() must be safe to call
// concurrently. Cancellation: the coroutine's cancellation slot (client disconnect,
// deadline) or a sink that returns false both stop the upstream call.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <optional>
#include <string>

#include "warden/api/chat_request.hpp"
#include "warden/api/stream_event.hpp"
#include "warden/common/error.hpp"

namespace warden::providers {

namespace asio = boost::asio;

// Receives the canonical events of one attempt. Runs on the session's executor.
class EventSink {
 public:
  virtual ~EventSink() = default;
  // Delivers one event; completes when the caller can take the next one (backpressure).
  // Returns false when the caller is gone and the provider should stop.
  virtual asio::awaitable<bool> emit(api::StreamEvent ev) = 0;
  // True once any byte of the answer has been sent to the client (no retry after that).
  virtual bool committed() const = 0;
};

struct Outcome {
  bool ok = false;
  Error error;                 // when !ok
  int upstream_status = 0;     // HTTP status from the upstream, 0 if none (connect error, timeout)
  bool retryable = false;      // connect error, timeout before first byte, 429/500/502/503/504
  std::optional<std::chrono::milliseconds> retry_after;  // from the upstream's retry-after
  api::Usage usage;            // final usage when known
  std::string finish_reason;
  std::string response_model;  // the upstream's `model` field
};

class Provider {
 public:
  virtual ~Provider() = default;
  // `req.model` is already the target's model id with the target's params applied.
  virtual asio::awaitable<Outcome> stream(const api::ChatRequest& req, EventSink& sink) = 0;
  virtual std::string type() const = 0;  // "openai", "anthropic", "local"
};

}  // namespace warden::providers
