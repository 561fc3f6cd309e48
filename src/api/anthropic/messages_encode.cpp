#include "warden/common/ids.hpp"
#include "warden/api/anthropic/messages_encode.hpp"

#include <simdjson.h>

#include <algorithm>
#include <atomic>
#include <random>

namespace warden::api::anthropic {

std::string stop_reason_for(std::string_view f) {
  if (f == "length") return "max_tokens";
  if (f == "tool_calls" || f == "function_call") return "tool_use";
  if (f == "content_filter") return "refusal";
  return "end_turn";  // stop, insufficient_system_resource, unknown
}

std::string finish_reason_for(std::string_view s) {
  if (s == "max_tokens" || s == "model_context_window_exceeded") return "length";
  if (s == "tool_use") return "tool_calls";
  if (s == "refusal") return "content_filter";
  return "stop";  // end_turn, stop_sequence, pause_turn
}

std::string_view error_type_for(int status) {
  switch (status) {
    case 400: return "invalid_request_error";
    case 401: return "authentication_error";
    case 402: return "billing_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 413: return "request_too_large";
    case 429: return "rate_limit_error";
    case 503:
    case 529: return "overloaded_error";
    case 504: return "timeout_error";
    default: return status >= 500 ? "api_error" : "invalid_request_error";
  }
}

std::string error_body(const Error& e) {
  json::Writer w;
  w.begin_object().field("type", "error").key("error").begin_object();
  w.field("type", error_type_for(e.http_status)).field("message", e.message);
  if (!e.code.empty()) w.field("code", e.code);
  w.end_object().end_object();
  return w.take();
}

Error error_from_type(std::string_view type, std::string message, int status) {
  if (status == 0) {
    if (type == "invalid_request_error") status = 400;
    else if (type == "authentication_error") status = 401;
    else if (type == "billing_error") status = 402;
    else if (type == "permission_error") status = 403;
    else if (type == "not_found_error") status = 404;
    else if (type == "request_too_large") status = 413;
    else if (type == "rate_limit_error") status = 429;
    else if (type == "timeout_error") status = 504;
    else if (type == "overloaded_error") status = 529;
    else status = 500;
  }
  Error e;
  e.http_status = status;
  e.code = type.empty() ? "upstream_error" : std::string(type);
  e.type = status >= 500 ? "server_error" : "invalid_request_error";
  e.message = std::move(message);
  return e;
}

void write_usage_fields(json::Writer& w, const Usage& u) {
  int64_t input = std::max<int64_t>(0, u.prompt_tokens - u.cache_hit_tokens - u.cache_write_tokens);
  w.field_int("input_tokens", input);
  w.field_int("cache_creation_input_tokens", u.cache_write_tokens);
  w.field_int("cache_read_input_tokens", u.cache_hit_tokens);
  w.field_int("output_tokens", u.completion_tokens);
}

std::string new_message_id() { return new_alnum_id("msg_"); }

// ---- upstream request ------------------------------------------------------------------

namespace {

// Tool arguments as an `input` object: the model's JSON text when it is an object, else {}.
std::string input_object(const std::string& arguments) {
  if (arguments.empty()) return "{}";
  simdjson::dom::parser p;
  simdjson::dom::element e;
  if (p.parse(arguments).get(e) || !e.is_object()) return "{}";
  return simdjson::minify(e);
}

// OpenAI image_url part → Anthropic image block (data: URLs become base64 sources).
std::string image_part_to_block(const std::string& raw) {
  simdjson::dom::parser p;
  simdjson::dom::element e;
  if (p.parse(raw).get(e)) return {};
  std::string_view type;
  if (!e["type"].get_string().get(type) && type == "image") return raw;  // already Anthropic-shaped
  std::string_view url;
  if (e["image_url"]["url"].get_string().get(url)) {
    if (e["image_url"].get_string().get(url)) return {};
  }
  json::Writer w;
  w.begin_object().field("type", "image").key("source").begin_object();
  if (url.rfind("data:", 0) == 0) {
    auto semi = url.find(';');
    auto comma = url.find(',');
    if (semi == std::string_view::npos || comma == std::string_view::npos || comma < semi) return {};
    w.field("type", "base64").field("media_type", url.substr(5, semi - 5)).field("data", url.substr(comma + 1));
  } else {
    w.field("type", "url").field("url", url);
  }
  w.end_object().end_object();
  return w.take();
}

void write_user_blocks(json::Writer& w, const Message& m) {
  for (const auto& p : m.content) {
    if (p.type == ContentPart::Type::Text) {
      if (p.text.empty()) continue;  // Anthropic rejects empty text blocks
      w.begin_object().field("type", "text").field("text", p.text).end_object();
    } else if (p.type == ContentPart::Type::Image) {
      std::string block = image_part_to_block(p.raw_json);
      if (!block.empty()) w.raw(block);
    } else if (!p.raw_json.empty()) {
      w.raw(p.raw_json);
    }
  }
}

std::string text_of(const Message& m) {
  std::string text;
  for (const auto& p : m.content)
    if (p.type == ContentPart::Type::Text) text += p.text;
  return text;
}

// Extra top-level fields an Anthropic upstream understands (target params included).
bool anthropic_field(std::string_view k) {
  static constexpr std::string_view kKnown[] = {"metadata", "service_tier", "container", "mcp_servers",
                                                "context_management", "top_k", "thinking"};
  return std::find(std::begin(kKnown), std::end(kKnown), k) != std::end(kKnown);
}

}  // namespace

std::string encode_messages_request(const ChatRequest& req) {
  json::Writer w;
  w.begin_object();
  w.field("model", req.model);
  w.field_int("max_tokens", req.max_tokens.value_or(kDefaultMaxTokens));

  // system / developer messages → top-level system blocks.
  std::vector<std::string> system;
  for (const auto& m : req.messages)
    if (m.role == "system" || m.role == "developer") system.push_back(text_of(m));
  if (!system.empty()) {
    w.key("system").begin_array();
    for (const auto& s : system) w.begin_object().field("type", "text").field("text", s).end_object();
    w.end_array();
  }

  // Turns: consecutive user-side messages (user, tool) merge into one user turn; tool
  // results first-come in order, as Anthropic requires them to lead the turn.
  w.key("messages").begin_array();
  size_t i = 0;
  const auto& ms = req.messages;
  while (i < ms.size()) {
    const auto& m = ms[i];
    if (m.role == "system" || m.role == "developer") {
      ++i;
      continue;
    }
    if (m.role == "assistant") {
      w.begin_object().field("role", "assistant").key("content").begin_array();
      for (; i < ms.size() && ms[i].role == "assistant"; ++i) {
        const auto& a = ms[i];
        if (a.reasoning_content && !a.reasoning_content->empty()) {
          w.begin_object().field("type", "thinking").field("thinking", *a.reasoning_content);
          if (!a.reasoning_signature.empty()) w.field("signature", a.reasoning_signature);
          w.end_object();
        }
        write_user_blocks(w, a);
        for (const auto& c : a.tool_calls) {
          w.begin_object().field("type", "tool_use").field("id", c.id).field("name", c.name);
          w.field_raw("input", input_object(c.arguments)).end_object();
        }
      }
      w.end_array().end_object();
      continue;
    }
    // user / tool run
    w.begin_object().field("role", "user").key("content").begin_array();
    for (; i < ms.size() && (ms[i].role == "user" || ms[i].role == "tool"); ++i) {
      const auto& u = ms[i];
      if (u.role == "tool") {
        w.begin_object().field("type", "tool_result").field("tool_use_id", u.tool_call_id);
        w.field("content", text_of(u));
        if (u.tool_error) w.field_bool("is_error", true);
        w.end_object();
      } else {
        write_user_blocks(w, u);
      }
    }
    w.end_array().end_object();
  }
  w.end_array();

  if (!req.tools.empty()) {
    w.key("tools").begin_array();
    for (const auto& t : req.tools) {
      w.begin_object().field("name", t.name);
      if (!t.description.empty()) w.field("description", t.description);
      w.field_raw("input_schema", t.parameters_json.empty() ? R"({"type":"object"})" : t.parameters_json);
      w.end_object();
    }
    w.end_array();
  }
  if (!req.tool_choice_json.empty()) {
    simdjson::dom::parser p;
    simdjson::dom::element e;
    std::string type, name;
    if (!p.parse(req.tool_choice_json).get(e)) {
      std::string_view s;
      if (!e.get_string().get(s)) {
        type = s == "required" ? "any" : std::string(s);
      } else if (!e["function"]["name"].get_string().get(s)) {
        type = "tool";
        name = std::string(s);
      }
    }
    if (!type.empty()) {
      w.key("tool_choice").begin_object().field("type", type);
      if (!name.empty()) w.field("name", name);
      if (req.parallel_tool_calls == false && type != "none") w.field_bool("disable_parallel_tool_use", true);
      w.end_object();
    }
  } else if (req.parallel_tool_calls == false && !req.tools.empty()) {
    w.key("tool_choice").begin_object().field("type", "auto").field_bool("disable_parallel_tool_use", true).end_object();
  }
  if (!req.stop.empty()) {
    w.key("stop_sequences").begin_array();
    for (const auto& s : req.stop) w.string(s);
    w.end_array();
  }
  bool has_metadata = false, has_thinking = false, has_top_k = false;
  for (const auto& [k, v] : req.extra) {
    has_metadata |= k == "metadata";
    has_thinking |= k == "thinking";
    has_top_k |= k == "top_k";
  }
  // Anthropic's temperature range is 0–1 (OpenAI's 0–2).
  if (req.temperature) w.key("temperature").number(std::clamp(*req.temperature, 0.0, 1.0));
  if (req.top_p) w.key("top_p").number(*req.top_p);
  if (req.top_k && !has_top_k) w.field_int("top_k", *req.top_k);
  if (!req.user.empty() && !has_metadata) w.key("metadata").begin_object().field("user_id", req.user).end_object();
  if (!req.thinking_json.empty() && !has_thinking) w.field_raw("thinking", req.thinking_json);
  if (req.stream) w.field_bool("stream", true);
  for (const auto& [k, v] : req.extra)
    if (anthropic_field(k)) w.field_raw(k, v);
  w.end_object();
  return w.take();
}

// ---- SSE encoder -----------------------------------------------------------------------

EventEncoder::EventEncoder(std::string fallback_model) : model_(std::move(fallback_model)) {}

void EventEncoder::event(std::string& out, std::string_view name, const std::string& data) {
  out.append("event: ").append(name).append("\ndata: ").append(data).append("\n\n");
}

void EventEncoder::start(std::string& out) {
  if (started_) return;
  started_ = true;
  if (id_.empty()) id_ = new_message_id();
  json::Writer w;
  w.begin_object().field("type", "message_start").key("message").begin_object();
  w.field("id", id_).field("type", "message").field("role", "assistant").field("model", model_);
  w.key("content").begin_array().end_array();
  w.key("stop_reason").null().key("stop_sequence").null();
  w.key("usage").begin_object();
  write_usage_fields(w, usage_);
  w.end_object().end_object().end_object();
  event(out, "message_start", w.take());
}

void EventEncoder::close_block(std::string& out) {
  if (open_ == Block::None) return;
  json::Writer w;
  w.begin_object().field("type", "content_block_stop").field_int("index", next_index_ - 1).end_object();
  event(out, "content_block_stop", w.take());
  open_ = Block::None;
  open_tool_ = -1;
}

void EventEncoder::open_block(std::string& out, Block kind, const StreamEvent* tool) {
  close_block(out);
  json::Writer w;
  w.begin_object().field("type", "content_block_start").field_int("index", next_index_).key("content_block").begin_object();
  switch (kind) {
    case Block::Text: w.field("type", "text").field("text", ""); break;
    case Block::Thinking: w.field("type", "thinking").field("thinking", "").field("signature", ""); break;
    case Block::Tool:
      w.field("type", "tool_use").field("id", tool->tool_call.id).field("name", tool->tool_call.name);
      w.key("input").begin_object().end_object();
      break;
    case Block::None: break;
  }
  w.end_object().end_object();
  event(out, "content_block_start", w.take());
  open_ = kind;
  ++next_index_;
}

std::string EventEncoder::encode(const StreamEvent& ev) {
  std::string out;
  if (ended_ || ev.choice != 0) return out;  // Anthropic has one choice
  auto delta = [&](std::string_view type, std::string_view field, std::string_view text) {
    json::Writer w;
    w.begin_object().field("type", "content_block_delta").field_int("index", next_index_ - 1);
    w.key("delta").begin_object().field("type", type).field(field, text).end_object().end_object();
    event(out, "content_block_delta", w.take());
  };
  switch (ev.type) {
    case StreamEvent::Type::Start:
      if (!started_) {
        if (!ev.model.empty()) model_ = ev.model;
        if (!ev.id.empty()) id_ = ev.id.rfind("msg_", 0) == 0 ? ev.id : "msg_" + ev.id;
      }
      start(out);
      break;
    case StreamEvent::Type::Content:
      start(out);
      if (ev.text.empty()) break;
      if (open_ != Block::Text) open_block(out, Block::Text, nullptr);
      delta("text_delta", "text", ev.text);
      break;
    case StreamEvent::Type::Reasoning:
      start(out);
      if (ev.text.empty() && ev.signature.empty()) break;
      if (open_ != Block::Thinking) open_block(out, Block::Thinking, nullptr);
      if (!ev.text.empty()) delta("thinking_delta", "thinking", ev.text);
      if (!ev.signature.empty()) delta("signature_delta", "signature", ev.signature);
      break;
    case StreamEvent::Type::ToolCall: {
      start(out);
      int idx = ev.tool_call.index;
      if (!(open_ == Block::Tool && open_tool_ == idx)) {
        if (tools_opened_[idx]) break;  // a fragment for a call whose block is already closed
        open_block(out, Block::Tool, &ev);
        open_tool_ = idx;
        tools_opened_[idx] = true;
      }
      if (!ev.tool_call.arguments.empty()) delta("input_json_delta", "partial_json", ev.tool_call.arguments);
      break;
    }
    case StreamEvent::Type::Finish:
      start(out);
      stop_reason_ = stop_reason_for(ev.finish_reason);
      break;
    case StreamEvent::Type::Usage:
      usage_ = ev.usage;
      usage_.present = true;
      break;
    case StreamEvent::Type::KeepAlive:
      if (started_) event(out, "ping", R"({"type":"ping"})");
      break;
    case StreamEvent::Type::Error:
      break;  // the pipeline ends the stream through end(error)
  }
  return out;
}

std::string EventEncoder::end(const Error* error) {
  std::string out;
  if (ended_) return out;
  start(out);
  close_block(out);
  if (error) {
    json::Writer w;
    w.begin_object().field("type", "error").key("error").begin_object();
    w.field("type", error_type_for(error->http_status)).field("message", error->message).end_object().end_object();
    event(out, "error", w.take());
  }
  json::Writer w;
  w.begin_object().field("type", "message_delta").key("delta").begin_object();
  if (stop_reason_.empty() && !error) stop_reason_ = "end_turn";
  if (stop_reason_.empty()) w.key("stop_reason").null();
  else w.field("stop_reason", stop_reason_);
  w.key("stop_sequence").null().end_object();
  w.key("usage").begin_object();
  write_usage_fields(w, usage_);
  w.end_object().end_object();
  event(out, "message_delta", w.take());
  event(out, "message_stop", R"({"type":"message_stop"})");
  ended_ = true;
  return out;
}

// ---- aggregated body -------------------------------------------------------------------

MessageAggregator::MessageAggregator(std::string fallback_model) : model_(std::move(fallback_model)) {}

MessageAggregator::Block& MessageAggregator::current(const std::string& type, int tool_index) {
  if (type == "tool_use") {
    for (auto& b : blocks_)
      if (b.type == "tool_use" && b.tool_index == tool_index) return b;
  } else if (!blocks_.empty() && blocks_.back().type == type) {
    return blocks_.back();
  }
  blocks_.push_back(Block{type, "", "", "", "", tool_index});
  return blocks_.back();
}

void MessageAggregator::add(const StreamEvent& ev) {
  if (ev.choice != 0) return;
  switch (ev.type) {
    case StreamEvent::Type::Start:
      if (!ev.model.empty()) model_ = ev.model;
      if (!ev.id.empty() && id_.empty()) id_ = ev.id.rfind("msg_", 0) == 0 ? ev.id : "msg_" + ev.id;
      break;
    case StreamEvent::Type::Content:
      if (!ev.text.empty()) current("text").text += ev.text;
      break;
    case StreamEvent::Type::Reasoning: {
      if (ev.text.empty() && ev.signature.empty()) break;
      auto& b = current("thinking");
      b.text += ev.text;
      if (!ev.signature.empty()) b.signature = ev.signature;
      break;
    }
    case StreamEvent::Type::ToolCall: {
      auto& b = current("tool_use", ev.tool_call.index);
      if (!ev.tool_call.id.empty()) b.id = ev.tool_call.id;
      if (!ev.tool_call.name.empty()) b.name = ev.tool_call.name;
      b.text += ev.tool_call.arguments;
      break;
    }
    case StreamEvent::Type::Finish: stop_reason_ = stop_reason_for(ev.finish_reason); break;
    case StreamEvent::Type::Usage:
      usage_ = ev.usage;
      usage_.present = true;
      break;
    default: break;
  }
}

std::string MessageAggregator::body() const {
  json::Writer w;
  w.begin_object();
  w.field("id", id_.empty() ? new_message_id() : id_).field("type", "message").field("role", "assistant");
  w.field("model", model_);
  w.key("content").begin_array();
  for (const auto& b : blocks_) {
    w.begin_object().field("type", b.type);
    if (b.type == "text") {
      w.field("text", b.text);
    } else if (b.type == "thinking") {
      w.field("thinking", b.text).field("signature", b.signature);
    } else {
      w.field("id", b.id).field("name", b.name).field_raw("input", input_object(b.text));
    }
    w.end_object();
  }
  w.end_array();
  w.field("stop_reason", stop_reason_.empty() ? "end_turn" : stop_reason_);
  w.key("stop_sequence").null();
  w.key("usage").begin_object();
  write_usage_fields(w, usage_);
  w.end_object();
  w.end_object();
  return w.take();
}

}  // namespace warden::api::anthropic
