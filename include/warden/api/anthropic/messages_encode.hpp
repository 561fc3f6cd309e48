#pragma once
// Canonical → Anthropic wire: the upstream request body (for `type: anthropic`
// providers), the SSE event sequence and the aggregated message body for Anthropic
// callers, and error bodies. Encoders are per request and not thread-safe; the free
// functions are.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "warden/api/chat_request.hpp"
#include "warden/api/json_writer.hpp"
#include "warden/api/stream_event.hpp"
#include "warden/common/error.hpp"

namespace warden::api::anthropic {

// max_tokens sent upstream when the caller (OpenAI format) gave none; Anthropic requires one.
inline constexpr int64_t kDefaultMaxTokens = 4096;

// wire-formats.md §4 table.
std::string stop_reason_for(std::string_view finish_reason);
std::string finish_reason_for(std::string_view stop_reason);

// Anthropic error.type for an HTTP status (400 invalid_request_error … 529 overloaded_error).
std::string_view error_type_for(int http_status);
// {"type":"error","error":{"type","message"}} (+ "code" with warden's stable code).
std::string error_body(const Error& e);
// Anthropic → warden Error (status from the type when `http_status` is 0).
Error error_from_type(std::string_view type, std::string message, int http_status = 0);

// Canonical usage → Anthropic usage fields: input_tokens EXCLUDES cache reads and writes.
void write_usage_fields(json::Writer& w, const Usage& u);

// The /v1/messages body for an Anthropic-format upstream.
std::string encode_messages_request(const ChatRequest& req);

// A fresh `msg_…` id for answers whose upstream named none.
std::string new_message_id();

// Events → Anthropic SSE: message_start, per block content_block_start → *_delta →
// content_block_stop (indices 0,1,2… in order, one open block at a time, one tool_use
// block per OpenAI tool index), ping for upstream keep-alives, then message_delta
// (stop_reason, usage) and message_stop — always, even when no usage or finish came.
class EventEncoder {
 public:
  explicit EventEncoder(std::string fallback_model);
  std::string encode(const StreamEvent& ev);
  // Final bytes; `error`: an `error` event first (the stream had started).
  std::string end(const Error* error);

 private:
  enum class Block { None, Text, Thinking, Tool };
  void start(std::string& out);
  void close_block(std::string& out);
  void open_block(std::string& out, Block kind, const StreamEvent* tool);
  static void event(std::string& out, std::string_view name, const std::string& data);

  std::string id_;
  std::string model_;
  bool started_ = false;
  bool ended_ = false;
  Block open_ = Block::None;
  int open_tool_ = -1;     // OpenAI tool index of the open tool_use block
  int next_index_ = 0;     // next Anthropic content block index
  std::map<int, bool> tools_opened_;
  std::string stop_reason_;
  Usage usage_;
};

// Events → one Anthropic message body.
class MessageAggregator {
 public:
  explicit MessageAggregator(std::string fallback_model);
  void add(const StreamEvent& ev);
  std::string body() const;

 private:
  struct Block {
    std::string type;  // text | thinking | tool_use
    std::string text;  // text / thinking / tool input JSON text
    std::string signature;
    std::string id, name;
    int tool_index = -1;
  };
  Block& current(const std::string& type, int tool_index = -1);
  std::string id_;
  std::string model_;
  std::vector<Block> blocks_;
  std::string stop_reason_;
  Usage usage_;
};

}  // namespace warden::api::anthropic
