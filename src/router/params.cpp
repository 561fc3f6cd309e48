#include "warden/router/params.hpp"

#include <simdjson.h>

namespace warden::router {

void apply_params(api::ChatRequest& req, const std::string& params_json) {
  if (params_json.empty()) return;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(params_json).get(doc) != simdjson::SUCCESS) return;
  simdjson::dom::object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS) return;
  for (auto field : obj) {
    std::string key(field.key);
    auto v = field.value;
    std::string raw = simdjson::minify(v);
    double d = 0;
    int64_t i = 0;
    std::string_view s;
    bool b = false;
    if (key == "thinking") { req.thinking_json = raw; continue; }
    if (key == "reasoning_effort" && v.get_string().get(s) == simdjson::SUCCESS) { req.reasoning_effort = std::string(s); continue; }
    if (key == "temperature" && v.get_double().get(d) == simdjson::SUCCESS) { req.temperature = d; continue; }
    if (key == "top_p" && v.get_double().get(d) == simdjson::SUCCESS) { req.top_p = d; continue; }
    if (key == "presence_penalty" && v.get_double().get(d) == simdjson::SUCCESS) { req.presence_penalty = d; continue; }
    if (key == "frequency_penalty" && v.get_double().get(d) == simdjson::SUCCESS) { req.frequency_penalty = d; continue; }
    if (key == "top_k" && v.get_int64().get(i) == simdjson::SUCCESS) { req.top_k = i; continue; }
    if ((key == "max_tokens" || key == "max_completion_tokens") && v.get_int64().get(i) == simdjson::SUCCESS) { req.max_tokens = i; continue; }
    if (key == "seed" && v.get_int64().get(i) == simdjson::SUCCESS) { req.seed = i; continue; }
    if (key == "parallel_tool_calls" && v.get_bool().get(b) == simdjson::SUCCESS) { req.parallel_tool_calls = b; continue; }
    if (key == "response_format") { req.response_format_json = raw; continue; }
    bool replaced = false;
    for (auto& [name, value] : req.extra) {
      if (name == key) {
        value = raw;
        replaced = true;
      }
    }
    if (!replaced) req.extra.emplace_back(key, raw);
  }
}

}  // namespace warden::router
