#pragma once
// One wire format's side of a chat request (OpenAI chat.completions, Anthropic messages):
// body → canonical request, canonical events → the caller's bytes. The chat pipeline
// (chat_pipeline.hpp) drives it and is the same for every format. One instance per
// request, used only on that request's executor, so it may keep per-answer state.
#include <string>
#include <string_view>

#include "warden/api/chat_request.hpp"
#include "warden/api/stream_event.hpp"
#include "warden/common/error.hpp"
#include "warden/common/result.hpp"
#include "warden/policy/request_context.hpp"

namespace warden::api {

class ChatCodec {
 public:
  virtual ~ChatCodec() = default;
  virtual policy::WireFormat wire() const = 0;

  // Body → canonical request. Bad input → a 400 Error naming the parameter.
  virtual Result<ChatRequest> decode(std::string_view body) = 0;
  // Once, after decode and the request filters: the request as it will be routed (the
  // codec remembers what it needs: stream, include_usage, the alias as `model`).
  virtual void begin(const ChatRequest& req) = 0;

  // An error as a whole JSON body (content type application/json).
  virtual std::string encode_error(const Error& error) const = 0;

  // Streaming (text/event-stream): the bytes for one event; empty = send nothing.
  virtual std::string encode_event(const StreamEvent& ev) = 0;
  // Streaming: the last bytes once the answer ended; `error` when it failed after the
  // stream had started (the codec sends it in-band, then its terminator).
  virtual std::string encode_end(const Error* error) = 0;

  // Non-streaming: fold one event into the answer, then build the one JSON body.
  virtual void aggregate(const StreamEvent& ev) = 0;
  virtual std::string aggregated_body() = 0;
};

}  // namespace warden::api
