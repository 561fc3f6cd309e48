// parse_thinking: {type, budget_tokens} → ThinkingControl.
#include "thinking_control.hpp"

#include <simdjson.h>

namespace warden::providers::local {

std::optional<ThinkingControl> parse_thinking(const api::ChatRequest& req, Error& error) {
  ThinkingControl t;
  if (req.thinking_json.empty()) return t;
  auto bad = [&](const std::string& why) {
    error = Error{400, "invalid_request", "thinking: " + why, "invalid_request_error", "thinking"};
    return std::nullopt;
  };
  simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (parser.parse(req.thinking_json).get(obj) != simdjson::SUCCESS) return bad("must be an object");
  std::string_view type;
  if (obj["type"].get(type) != simdjson::SUCCESS) return bad("needs a type (enabled or disabled)");
  if (type == "disabled") {
    t.disabled = true;
  } else if (type != "enabled") {
    return bad("type must be enabled or disabled");
  }
  simdjson::dom::element budget;
  if (obj["budget_tokens"].get(budget) == simdjson::SUCCESS && !budget.is_null()) {
    int64_t n = 0;
    if (budget.get(n) != simdjson::SUCCESS || n < 1 || n > (int64_t{1} << 30))
      return bad("budget_tokens must be a positive integer");
    if (!t.disabled) t.budget_tokens = static_cast<int32_t>(n);
  }
  return t;
}

}  // namespace warden::providers::local
