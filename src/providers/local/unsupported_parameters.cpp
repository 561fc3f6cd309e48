// unsupported_parameter: the request parameters the embedded engine refuses rather than drops.
#include "unsupported_parameters.hpp"

#include "sampling_extensions.hpp"

#include <array>
#include <string_view>

#include <simdjson.h>

namespace warden::providers::local {

namespace {

// Unknown top-level fields that do not change the answer.
constexpr std::array<std::string_view, 7> kHarmless = {"metadata",         "store", "service_tier", "safety_identifier",
                                                         "prompt_cache_key", "user",  "stream_options"};

// The "type" member of a raw JSON object ("" when absent or not an object).
std::string type_of(const std::string& raw) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(raw).get(doc) != simdjson::SUCCESS) return "";
  std::string_view type;
  if (doc["type"].get(type) != simdjson::SUCCESS) return "";
  return std::string(type);
}

}  // namespace

std::optional<Unsupported> unsupported_parameter(const api::ChatRequest& req) {
  if (req.n && *req.n != 1) return Unsupported{"n", "the local engine returns one choice per request (n = 1)"};
  if (!req.response_format_json.empty() && type_of(req.response_format_json) != "text")
    return Unsupported{"response_format", "the local engine has no constrained decoding yet (response_format text only)"};
  if (!req.tool_choice_json.empty() && req.tool_choice_json != "\"auto\"" && req.tool_choice_json != "\"none\"")
    return Unsupported{"tool_choice", "the local engine cannot force a tool call (tool_choice auto or none only)"};
  if (req.parallel_tool_calls == false)
    return Unsupported{"parallel_tool_calls", "the local engine cannot limit a turn to one tool call"};
  if (!req.reasoning_effort.empty())
    return Unsupported{"reasoning_effort", "the local R1-distill models have no reasoning effort control"};
  for (const auto& [name, raw] : req.extra) {
    bool harmless = false;
    for (auto h : kHarmless) harmless = harmless || name == h;
    for (auto h : kSamplingExtensions) harmless = harmless || name == h;  // sampling_extensions.cpp reads them
    if (!harmless) {
      // The name is the caller's: bounded before it reaches a message (and a log line).
      const std::string shown = name.size() > 64 ? name.substr(0, 64) + "…" : name;
      return Unsupported{shown, "the local engine does not support it"};
    }
  }
  return std::nullopt;
}

}  // namespace warden::providers::local
