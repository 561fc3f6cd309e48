#include "warden/providers/openai_compat/response_parser.hpp"

#include <simdjson.h>

#include <string>

namespace warden::providers::openai_compat {

namespace dom = simdjson::dom;
using api::StreamEvent;

namespace {

dom::parser& parser() {
  thread_local dom::parser p;
  return p;
}

std::string_view str_or_empty(dom::element e) {
  std::string_view s;
  if (e.get_string().get(s)) return {};
  return s;
}

int64_t int_or_zero(dom::element e) {
  int64_t i = 0;
  if (!e.get_int64().get(i)) return i;
  double d = 0;
  if (!e.get_double().get(d)) return static_cast<int64_t>(d);
  return 0;
}

std::optional<api::Usage> parse_usage(dom::element u) {
  if (!u.is_object()) return std::nullopt;
  dom::object o = u.get_object().value_unsafe();
  api::Usage usage;
  usage.present = true;
  dom::element e;
  if (!o["prompt_tokens"].get(e)) usage.prompt_tokens = int_or_zero(e);
  if (!o["completion_tokens"].get(e)) usage.completion_tokens = int_or_zero(e);
  // DeepSeek names cache hits at the top level, OpenAI under prompt_tokens_details.
  if (!o["prompt_cache_hit_tokens"].get(e)) usage.cache_hit_tokens = int_or_zero(e);
  else if (!o.at_pointer("/prompt_tokens_details/cached_tokens").get(e)) usage.cache_hit_tokens = int_or_zero(e);
  if (!o.at_pointer("/completion_tokens_details/reasoning_tokens").get(e)) usage.reasoning_tokens = int_or_zero(e);
  return usage;
}

void add_tool_calls(dom::element calls, int choice, bool whole, std::vector<StreamEvent>& out) {
  dom::array arr;
  if (calls.get_array().get(arr)) return;
  int position = 0;
  for (dom::element c : arr) {
    StreamEvent ev;
    ev.type = StreamEvent::Type::ToolCall;
    ev.choice = choice;
    dom::element e;
    ev.tool_call.index = (!c["index"].get(e)) ? static_cast<int>(int_or_zero(e)) : position;
    if (!c["id"].get(e)) ev.tool_call.id = str_or_empty(e);
    if (!c.at_pointer("/function/name").get(e)) ev.tool_call.name = str_or_empty(e);
    if (!c.at_pointer("/function/arguments").get(e)) ev.tool_call.arguments = str_or_empty(e);
    (void)whole;
    out.push_back(std::move(ev));
    ++position;
  }
}

// choices[].logprobs.<key> (an array of per-token entries) goes onto this choice's
// event of `type` parsed from the same payload, kept as the upstream wrote each entry
// (minified); with no such event (a chunk whose delta was empty) it gets one of its own.
void attach_logprobs(dom::element logprobs, const char* key, StreamEvent::Type type, int choice,
                     std::vector<StreamEvent>& out) {
  dom::array entries;
  if (logprobs[key].get_array().get(entries) || entries.size() == 0) return;
  std::string joined;
  for (dom::element entry : entries) {
    if (!joined.empty()) joined += ',';
    joined += simdjson::minify(entry);
  }
  for (auto it = out.rbegin(); it != out.rend(); ++it) {
    if (it->type == type && it->choice == choice) {
      it->logprobs = std::move(joined);
      return;
    }
  }
  StreamEvent ev;
  ev.type = type;
  ev.choice = choice;
  ev.logprobs = std::move(joined);
  out.push_back(std::move(ev));
}

// Shared by chunks (`delta`) and whole bodies (`message`).
void add_choices(dom::element choices, const char* body_key, bool whole, std::vector<StreamEvent>& out) {
  dom::array arr;
  if (choices.get_array().get(arr)) return;
  int position = 0;
  for (dom::element c : arr) {
    dom::element e;
    const int index = (!c["index"].get(e)) ? static_cast<int>(int_or_zero(e)) : position;
    ++position;
    dom::element body;
    if (!c[body_key].get(body) && body.is_object()) {
      if (!body["reasoning_content"].get(e)) {
        auto text = str_or_empty(e);
        if (!text.empty()) {
          StreamEvent ev;
          ev.type = StreamEvent::Type::Reasoning;
          ev.choice = index;
          ev.text = text;
          out.push_back(std::move(ev));
        }
      }
      if (!body["content"].get(e)) {
        auto text = str_or_empty(e);
        if (!text.empty() || (whole && e.is_string())) {
          StreamEvent ev;
          ev.type = StreamEvent::Type::Content;
          ev.choice = index;
          ev.text = text;
          out.push_back(std::move(ev));
        }
      }
      if (!body["tool_calls"].get(e)) add_tool_calls(e, index, whole, out);
    }
    if (!c["logprobs"].get(e) && e.is_object()) {
      attach_logprobs(e, "content", StreamEvent::Type::Content, index, out);
      attach_logprobs(e, "reasoning_content", StreamEvent::Type::Reasoning, index, out);
    }
    if (!c["finish_reason"].get(e)) {
      auto reason = str_or_empty(e);
      if (!reason.empty()) {
        StreamEvent ev;
        ev.type = StreamEvent::Type::Finish;
        ev.choice = index;
        ev.finish_reason = reason;
        out.push_back(std::move(ev));
      }
    }
  }
}

std::optional<Error> inband_error(dom::element root) {
  dom::element err;
  if (root["error"].get(err) || err.is_null()) return std::nullopt;
  Error e;
  e.http_status = 502;
  e.code = "upstream_error";
  e.type = "server_error";
  dom::element f;
  if (err.is_object()) {
    if (!err["message"].get(f)) e.message = str_or_empty(f);
    if (!err["type"].get(f) && f.is_string()) e.type = str_or_empty(f);
    if (!err["code"].get(f) && f.is_string()) e.code = str_or_empty(f);
  } else if (err.is_string()) {
    e.message = str_or_empty(err);
  }
  if (e.message.empty()) e.message = "The upstream reported an error mid-answer.";
  return e;
}

ParsedChunk parse(std::string_view json, bool whole) {
  ParsedChunk out;
  dom::element root;
  if (parser().parse(json.data(), json.size(), true).get(root) || !root.is_object()) {
    out.malformed = true;
    return out;
  }
  if (auto e = inband_error(root)) {
    out.error = std::move(e);
    return out;
  }
  dom::element e;
  if (!root["id"].get(e)) out.id = str_or_empty(e);
  if (!root["model"].get(e)) out.model = str_or_empty(e);
  if (whole) {
    StreamEvent start;
    start.type = StreamEvent::Type::Start;
    start.id = out.id;
    start.model = out.model;
    out.events.push_back(std::move(start));
  }
  if (!root["choices"].get(e)) add_choices(e, whole ? "message" : "delta", whole, out.events);
  if (!root["usage"].get(e)) {
    if (auto u = parse_usage(e)) {
      StreamEvent ev;
      ev.type = StreamEvent::Type::Usage;
      ev.usage = *u;
      out.events.push_back(std::move(ev));
    }
  }
  return out;
}

}  // namespace

ParsedChunk parse_chunk(std::string_view json) { return parse(json, false); }
ParsedChunk parse_completion(std::string_view json) { return parse(json, true); }

Error parse_error_body(int status, std::string_view body) {
  Error e;
  e.http_status = status;
  dom::element root, err, f;
  bool parsed = !parser().parse(body.data(), body.size(), true).get(root) && root.is_object() &&
                !root["error"].get(err);
  if (parsed && err.is_object()) {
    if (!err["message"].get(f)) e.message = str_or_empty(f);
    if (!err["type"].get(f)) e.type = str_or_empty(f);
    if (!err["param"].get(f)) e.param = str_or_empty(f);
    if (!err["code"].get(f)) {
      e.code = str_or_empty(f);
      int64_t n;
      if (e.code.empty() && !f.get_int64().get(n)) e.code = std::to_string(n);
    }
  } else if (parsed && err.is_string()) {
    e.message = str_or_empty(err);
  } else if (!body.empty()) {
    // Not JSON (a proxy's HTML page): keep a short, printable excerpt for the operator.
    std::string text;
    for (char c : body.substr(0, 200)) text.push_back((c >= 0x20 && c < 0x7f) ? c : ' ');
    e.message = "upstream returned HTTP " + std::to_string(status) + ": " + text;
  }
  if (e.message.empty()) e.message = "upstream returned HTTP " + std::to_string(status);
  if (e.code.empty()) {
    switch (status) {
      case 401: e.code = "upstream_auth_failed"; break;
      case 402: e.code = "insufficient_balance"; break;
      case 429: e.code = "rate_limit_exceeded"; break;
      default: e.code = status >= 500 ? "upstream_error" : "invalid_request_error";
    }
  }
  return e;
}

}  // namespace warden::providers::openai_compat
