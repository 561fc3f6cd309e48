#pragma once
// Canonical events a provider produces while answering (DESIGN §2 step 5). A
// non-streaming answer is the same events, aggregated by the encoder.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "warden/common/error.hpp"

namespace warden::api {

struct Usage {
  bool present = false;
  int64_t prompt_tokens = 0;       // includes cache hits and cache writes (OpenAI convention)
  int64_t completion_tokens = 0;   // includes reasoning tokens
  int64_t cache_hit_tokens = 0;    // DeepSeek prompt_cache_hit_tokens / OpenAI cached_tokens / Anthropic cache_read
  int64_t cache_write_tokens = 0;  // Anthropic cache_creation_input_tokens
  int64_t reasoning_tokens = 0;
};

struct ToolCallDelta {
  int index = 0;          // OpenAI tool_calls[].index
  std::string id;         // set on the first fragment of a call
  std::string name;       // set on the first fragment of a call
  std::string arguments;  // this fragment of the arguments JSON text
};

struct StreamEvent {
  enum class Type {
    Start,      // response id / model known (first upstream payload)
    Content,    // text delta
    Reasoning,  // reasoning_content / thinking delta (signature in `signature`)
    ToolCall,   // tool-call fragment
    Finish,     // finish_reason for a choice
    Usage,      // token usage (may come after Finish)
    Error,      // upstream failure after the response started
    KeepAlive,  // upstream keep-alive comment: forwarded, but not progress
  };
  Type type = Type::Content;
  int choice = 0;
  std::string text;  // Content / Reasoning delta
  std::string signature;
  ToolCallDelta tool_call;
  std::string finish_reason;  // OpenAI vocabulary: stop | length | tool_calls | content_filter | ...
  Usage usage;
  Error error;
  std::string id;     // Start: upstream response id
  std::string model;  // Start: upstream model
  std::string raw;    // the upstream wire bytes of this event, when forwarding them unchanged is allowed
  // Content / Reasoning: the OpenAI `logprobs.content` entries of the tokens behind this
  // delta ({"token","logprob","bytes","top_logprobs"} objects joined by commas, no
  // brackets), when the caller asked for logprobs. Empty: none.
  std::string logprobs;
  // Set by a response filter that releases text it held back (DLP's stream window): these
  // events go to the filters after it and to the caller just BEFORE this one. The pipeline
  // empties it; providers and encoders never see it set.
  std::shared_ptr<std::vector<StreamEvent>> released_before;
};

}  // namespace warden::api
