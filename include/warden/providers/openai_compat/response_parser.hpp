#pragma once
// OpenAI-format answers → canonical events: one `chat.completion.chunk` (streaming) or
// one `chat.completion` body (non-streaming). Pure functions, thread-safe; the provider
// and tests use them.
#include <optional>
#include <string_view>
#include <vector>

#include "warden/api/stream_event.hpp"
#include "warden/common/error.hpp"

namespace warden::providers::openai_compat {

struct ParsedChunk {
  std::vector<api::StreamEvent> events;  // in wire order: reasoning, content, tool calls, finish, usage
  std::string id, model;
  std::optional<Error> error;  // the upstream sent {"error":{…}} in-band
  bool malformed = false;
};

// One SSE data payload (not "[DONE]").
ParsedChunk parse_chunk(std::string_view json);
// A whole non-streaming body; events start with Start.
ParsedChunk parse_completion(std::string_view json);
// An upstream error body → Error with the upstream's status, message, type, param, code.
Error parse_error_body(int status, std::string_view body);

}  // namespace warden::providers::openai_compat
