#pragma once
// The canonical chat request every wire format decodes into (DESIGN §2). Fields warden
// does not model are kept as raw JSON so they pass through to same-format upstreams.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace warden::api {

struct ContentPart {
  enum class Type { Text, Image, Other };
  Type type = Type::Text;
  std::string text;      // Type::Text
  std::string raw_json;  // the whole part as received (images, audio, documents), re-emitted as is
};

struct ToolCall {
  std::string id;
  std::string name;
  std::string arguments;  // JSON text exactly as the model produced it
};

struct Message {
  std::string role;  // system | developer | user | assistant | tool
  std::vector<ContentPart> content;
  bool content_is_array = false;  // re-encode as the caller sent it (string vs parts)
  bool content_null = false;      // "content": null (assistant turns with tool calls)
  std::optional<std::string> reasoning_content;
  std::string reasoning_signature;  // Anthropic thinking signature, sent back unchanged
  std::vector<ToolCall> tool_calls;
  std::string tool_call_id;  // role == tool
  bool tool_error = false;   // Anthropic tool_result.is_error
  std::string name;
  bool prefix = false;  // DeepSeek chat-prefix completion on the last assistant turn
  std::vector<std::pair<std::string, std::string>> extra;  // unknown message fields: name → raw JSON
};

struct ToolDefinition {
  std::string name;
  std::string description;
  std::string parameters_json;  // JSON Schema text; empty = absent
  std::optional<bool> strict;
};

struct ChatRequest {
  std::string model;  // caller's alias on the way in; the target's model id on the way out
  std::vector<Message> messages;
  std::vector<ToolDefinition> tools;
  std::string tool_choice_json;  // raw JSON as in OpenAI ("auto", {"type":"function",...}); empty = absent
  std::optional<bool> parallel_tool_calls;
  bool stream = false;
  bool include_usage = false;  // the caller asked for stream_options.include_usage
  std::optional<int64_t> max_tokens;  // max_tokens or max_completion_tokens
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::optional<int64_t> top_k;
  std::optional<double> presence_penalty;
  std::optional<double> frequency_penalty;
  std::optional<int64_t> seed;
  std::optional<int64_t> n;
  std::vector<std::string> stop;
  bool logprobs = false;
  std::optional<int64_t> top_logprobs;
  std::string response_format_json;  // raw JSON; empty = absent
  std::string reasoning_effort;
  std::string thinking_json;  // DeepSeek / Anthropic `thinking` object, raw JSON
  std::string user;           // OpenAI `user`, DeepSeek `user_id`, Anthropic metadata.user_id
  std::vector<std::pair<std::string, std::string>> extra;  // unknown top-level fields: name → raw JSON
  // Caller headers a same-format upstream should see (anthropic-version, anthropic-beta);
  // lower-case names, filled by the router, sent only by providers that understand them.
  std::vector<std::pair<std::string, std::string>> upstream_headers;
};

}  // namespace warden::api
