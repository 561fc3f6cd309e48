#pragma once
// Anthropic-format upstream answers → canonical events (for `type: anthropic` providers):
// SSE events one by one, or one non-stream message body. Thinking signatures ride on
// Reasoning events so an Anthropic caller gets them back unchanged. Not thread-safe.
#include <string>
#include <string_view>
#include <vector>

#include "warden/api/stream_event.hpp"

namespace warden::api::anthropic {

class StreamDecoder {
 public:
  // One SSE event (its `event:` name and `data:` JSON) → zero or more canonical events.
  // message_stop produces the Usage event (input from message_start, output from
  // message_delta) and sets done().
  std::vector<StreamEvent> feed(std::string_view event_name, std::string_view data);
  bool done() const { return done_; }
  const Usage& usage() const { return usage_; }
  const std::string& finish_reason() const { return finish_reason_; }
  const std::string& model() const { return model_; }

 private:
  Usage usage_;
  std::string finish_reason_;
  std::string model_;
  bool done_ = false;
  int next_tool_ = 0;
  std::vector<int> block_tool_;  // Anthropic block index → OpenAI tool index (-1: not a tool)
};

// A whole (non-stream) Anthropic message → the same events a stream would give.
// `ok` false when the body is not an Anthropic message.
std::vector<StreamEvent> decode_message_response(std::string_view body, bool* ok = nullptr);

// Canonical usage from an Anthropic usage object: prompt = input + cache read + cache creation.
Usage usage_from_anthropic(int64_t input, int64_t output, int64_t cache_read, int64_t cache_creation);

}  // namespace warden::api::anthropic
