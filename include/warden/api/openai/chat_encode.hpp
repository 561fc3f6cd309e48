#pragma once
// Canonical → OpenAI wire: the upstream request body, chat.completion.chunk SSE events,
// the aggregated chat.completion body for non-stream callers, and error bodies.
// Encoders are per request and not thread-safe; the free functions are.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "warden/api/chat_request.hpp"
#include "warden/api/json_writer.hpp"
#include "warden/api/stream_event.hpp"
#include "warden/common/error.hpp"

namespace warden::api::openai {

struct UpstreamOptions {
  // Ask for the usage chunk when streaming, whatever the caller asked, so warden can
  // count tokens (the chunk is stripped again for callers that did not ask).
  bool force_include_usage = true;
  bool drop_reasoning = false;  // remove reasoning_content from assistant turns
  // Field for ChatRequest::user (already the keyed hash): DeepSeek `user_id`, OpenAI
  // `user`, or "" to send none.
  std::string user_field = "user";
};

// The request body for an OpenAI-compatible upstream. Unknown fields kept by the
// decoder are written back byte for byte; an `extra` field named like a modelled one
// replaces it (target `params` merged by the router win).
std::string encode_chat_request(const ChatRequest& req, const UpstreamOptions& opts = {});

// OpenAI error.type for a status when the Error does not set one.
std::string_view error_type_for(int http_status);
// {"error":{"message","type","param","code"}}
std::string error_body(const Error& e);
void write_error_object(json::Writer& w, const Error& e);
// OpenAI usage object incl. DeepSeek's prompt_cache_hit/miss_tokens.
void write_usage(json::Writer& w, const Usage& u);

// Events → `data: {chat.completion.chunk}\n\n` lines.
class ChunkEncoder {
 public:
  // `fallback_model` is used until the upstream names its model; `include_usage`: the caller
  // asked for stream_options.include_usage (else the usage chunk is dropped).
  ChunkEncoder(std::string fallback_model, bool include_usage);
  // Bytes to write for `ev` (empty = nothing).
  std::string encode(const StreamEvent& ev);
  // Final bytes: the error event when `error`, then `data: [DONE]`.
  std::string end(const Error* error);
  const std::string& id() const { return id_; }

 private:
  void open_chunk(json::Writer& w, int choice);
  std::string close_chunk(json::Writer& w, std::string_view finish_reason, const StreamEvent* logprobs_of = nullptr);
  std::string id_;
  std::string model_;
  int64_t created_;
  bool include_usage_;
  bool error_sent_ = false;
  std::map<int, bool> role_sent_;
};

// Events → one chat.completion body.
class ResponseAggregator {
 public:
  explicit ResponseAggregator(std::string fallback_model);
  void add(const StreamEvent& ev);
  std::string body() const;
  const Usage& usage() const { return usage_; }

 private:
  struct Call {
    std::string id, name, arguments;
  };
  struct Choice {
    std::string content, reasoning, finish_reason;
    std::string content_logprobs, reasoning_logprobs;  // joined logprobs entries (StreamEvent::logprobs)
    bool has_content = false, has_reasoning = false;
    std::map<int, Call> calls;
  };
  std::string id_;
  std::string model_;
  int64_t created_;
  std::map<int, Choice> choices_;
  Usage usage_;
};

// A fresh `chatcmpl-…` id for answers whose upstream named none.
std::string new_completion_id();

}  // namespace warden::api::openai
