#include "warden/common/ids.hpp"
#include "warden/api/openai/chat_encode.hpp"

#include <atomic>
#include <chrono>
#include <random>

namespace warden::api::openai {

namespace {

int64_t now_unix() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool has_extra(const std::vector<std::pair<std::string, std::string>>& extra, std::string_view name) {
  for (const auto& [k, v] : extra)
    if (k == name) return true;
  return false;
}

void write_content(json::Writer& w, const Message& m) {
  w.key("content");
  if (m.content_null && m.content.empty()) {
    w.null();
    return;
  }
  if (!m.content_is_array) {
    // A string content: all text parts joined (a filter may have split or rewritten it).
    std::string text;
    for (const auto& p : m.content)
      if (p.type == ContentPart::Type::Text) text += p.text;
    w.string(text);
    return;
  }
  w.begin_array();
  for (const auto& p : m.content) {
    if (p.type == ContentPart::Type::Text) {
      // Written from `text`, not raw_json: filters (DLP) may have rewritten it.
      w.begin_object().field("type", "text").field("text", p.text).end_object();
    } else if (!p.raw_json.empty()) {
      w.raw(p.raw_json);
    }
  }
  w.end_array();
}

void write_message(json::Writer& w, const Message& m, const UpstreamOptions& opts) {
  w.begin_object();
  w.field("role", m.role);
  write_content(w, m);
  if (!m.name.empty()) w.field("name", m.name);
  if (m.reasoning_content && !opts.drop_reasoning && m.role == "assistant")
    w.field("reasoning_content", *m.reasoning_content);
  if (!m.tool_calls.empty()) {
    w.key("tool_calls").begin_array();
    for (const auto& c : m.tool_calls) {
      w.begin_object().field("id", c.id).field("type", "function");
      w.key("function").begin_object().field("name", c.name).field("arguments", c.arguments).end_object();
      w.end_object();
    }
    w.end_array();
  }
  if (!m.tool_call_id.empty()) w.field("tool_call_id", m.tool_call_id);
  if (m.prefix) w.field_bool("prefix", true);
  for (const auto& [k, v] : m.extra) w.field_raw(k, v);
  w.end_object();
}

}  // namespace

std::string encode_chat_request(const ChatRequest& req, const UpstreamOptions& opts) {
  json::Writer w;
  w.begin_object();
  const auto& ex = req.extra;
  auto want = [&](std::string_view name) { return !has_extra(ex, name); };
  if (want("model")) w.field("model", req.model);
  if (want("messages")) {
    w.key("messages").begin_array();
    for (const auto& m : req.messages) write_message(w, m, opts);
    w.end_array();
  }
  if (!req.tools.empty() && want("tools")) {
    w.key("tools").begin_array();
    for (const auto& t : req.tools) {
      w.begin_object().field("type", "function").key("function").begin_object();
      w.field("name", t.name);
      if (!t.description.empty()) w.field("description", t.description);
      if (!t.parameters_json.empty()) w.field_raw("parameters", t.parameters_json);
      if (t.strict) w.field_bool("strict", *t.strict);
      w.end_object().end_object();
    }
    w.end_array();
  }
  if (!req.tool_choice_json.empty() && want("tool_choice")) w.field_raw("tool_choice", req.tool_choice_json);
  if (req.parallel_tool_calls && want("parallel_tool_calls"))
    w.field_bool("parallel_tool_calls", *req.parallel_tool_calls);
  if (want("stream")) w.field_bool("stream", req.stream);
  if (req.stream && want("stream_options") && (req.include_usage || opts.force_include_usage))
    w.key("stream_options").begin_object().field_bool("include_usage", true).end_object();
  if (req.max_tokens && want("max_tokens")) w.field_int("max_tokens", *req.max_tokens);
  if (req.temperature && want("temperature")) w.key("temperature").number(*req.temperature);
  if (req.top_p && want("top_p")) w.key("top_p").number(*req.top_p);
  if (req.top_k && want("top_k")) w.field_int("top_k", *req.top_k);
  if (req.presence_penalty && want("presence_penalty")) w.key("presence_penalty").number(*req.presence_penalty);
  if (req.frequency_penalty && want("frequency_penalty"))
    w.key("frequency_penalty").number(*req.frequency_penalty);
  if (req.seed && want("seed")) w.field_int("seed", *req.seed);
  if (req.n && want("n")) w.field_int("n", *req.n);
  if (!req.stop.empty() && want("stop")) {
    w.key("stop").begin_array();
    for (const auto& s : req.stop) w.string(s);
    w.end_array();
  }
  if (req.logprobs && want("logprobs")) w.field_bool("logprobs", true);
  if (req.top_logprobs && want("top_logprobs")) w.field_int("top_logprobs", *req.top_logprobs);
  if (!req.response_format_json.empty() && want("response_format"))
    w.field_raw("response_format", req.response_format_json);
  if (!req.reasoning_effort.empty() && want("reasoning_effort")) w.field("reasoning_effort", req.reasoning_effort);
  if (!req.thinking_json.empty() && want("thinking")) w.field_raw("thinking", req.thinking_json);
  if (!req.user.empty() && !opts.user_field.empty() && want(opts.user_field)) w.field(opts.user_field, req.user);
  for (const auto& [k, v] : ex) w.field_raw(k, v);
  w.end_object();
  return w.take();
}

std::string_view error_type_for(int s) {
  switch (s) {
    case 401: return "authentication_error";
    case 403: return "permission_error";
    case 404: return "not_found_error";
    case 429: return "rate_limit_error";
    default: break;
  }
  if (s >= 500) return "server_error";
  return "invalid_request_error";
}

void write_error_object(json::Writer& w, const Error& e) {
  w.begin_object();
  w.field("message", e.message);
  w.field("type", e.type.empty() ? error_type_for(e.http_status) : std::string_view(e.type));
  w.key("param");
  if (e.param.empty()) w.null(); else w.string(e.param);
  w.key("code");
  if (e.code.empty()) w.null(); else w.string(e.code);
  w.end_object();
}

std::string error_body(const Error& e) {
  json::Writer w;
  w.begin_object().key("error");
  write_error_object(w, e);
  w.end_object();
  return w.take();
}

void write_usage(json::Writer& w, const Usage& u) {
  w.begin_object();
  w.field_int("prompt_tokens", u.prompt_tokens);
  w.field_int("completion_tokens", u.completion_tokens);
  w.field_int("total_tokens", u.prompt_tokens + u.completion_tokens);
  w.key("prompt_tokens_details").begin_object().field_int("cached_tokens", u.cache_hit_tokens).end_object();
  w.field_int("prompt_cache_hit_tokens", u.cache_hit_tokens);
  w.field_int("prompt_cache_miss_tokens", u.prompt_tokens - u.cache_hit_tokens);
  w.key("completion_tokens_details").begin_object().field_int("reasoning_tokens", u.reasoning_tokens).end_object();
  w.end_object();
}

std::string new_completion_id() { return new_alnum_id("chatcmpl-"); }

// ---- ChunkEncoder -----------------------------------------------------------------

ChunkEncoder::ChunkEncoder(std::string fallback_model, bool include_usage)
    : model_(std::move(fallback_model)), created_(now_unix()), include_usage_(include_usage) {}

void ChunkEncoder::open_chunk(json::Writer& w, int choice) {
  if (id_.empty()) id_ = new_completion_id();
  w.begin_object();
  w.field("id", id_).field("object", "chat.completion.chunk").field_int("created", created_).field("model", model_);
  w.key("choices").begin_array().begin_object().field_int("index", choice);
  w.key("delta").begin_object();
  auto& sent = role_sent_[choice];
  if (!sent) {
    w.field("role", "assistant");
    sent = true;
  }
}

namespace {

// OpenAI's choice `logprobs` object: {"content":[...],"refusal":null}. Tokens of the
// reasoning go under "reasoning_content" (warden's extension, named like the delta
// field): OpenAI has no place for them and DeepSeek sends none, but a local R1 model
// spends most of its tokens there.
void write_logprobs(json::Writer& w, std::string_view content, std::string_view reasoning) {
  if (content.empty() && reasoning.empty()) {
    w.key("logprobs").null();
    return;
  }
  std::string entries = "[";
  entries += content;
  entries += ']';
  w.key("logprobs").begin_object().field_raw("content", entries);
  if (!reasoning.empty()) {
    entries = "[";
    entries += reasoning;
    entries += ']';
    w.field_raw("reasoning_content", entries);
  }
  w.key("refusal").null();
  w.end_object();
}

void append_entries(std::string& joined, const std::string& more) {
  if (more.empty()) return;
  if (!joined.empty()) joined += ',';
  joined += more;
}

}  // namespace

std::string ChunkEncoder::close_chunk(json::Writer& w, std::string_view finish_reason, const StreamEvent* logprobs_of) {
  w.end_object();  // delta
  if (logprobs_of && !logprobs_of->logprobs.empty()) {
    const bool reasoning = logprobs_of->type == StreamEvent::Type::Reasoning;
    write_logprobs(w, reasoning ? std::string_view{} : std::string_view(logprobs_of->logprobs),
                   reasoning ? std::string_view(logprobs_of->logprobs) : std::string_view{});
  } else {
    w.key("logprobs").null();
  }
  w.key("finish_reason");
  if (finish_reason.empty()) w.null(); else w.string(finish_reason);
  w.end_object().end_array();  // choice, choices
  if (include_usage_) w.key("usage").null();
  w.end_object();
  std::string out = "data: ";
  out += w.str();
  out += "\n\n";
  return out;
}

std::string ChunkEncoder::encode(const StreamEvent& ev) {
  json::Writer w;
  switch (ev.type) {
    case StreamEvent::Type::Start:
      if (!ev.id.empty()) id_ = ev.id;
      if (!ev.model.empty()) model_ = ev.model;
      // The role chunk goes out at once: callers see the answer start before any token.
      open_chunk(w, ev.choice);
      w.field("content", "");
      return close_chunk(w, "");
    case StreamEvent::Type::Content:
      open_chunk(w, ev.choice);
      w.field("content", ev.text);
      return close_chunk(w, "", &ev);
    case StreamEvent::Type::Reasoning:
      if (ev.text.empty() && ev.logprobs.empty()) return {};
      open_chunk(w, ev.choice);
      w.field("reasoning_content", ev.text);
      return close_chunk(w, "", &ev);
    case StreamEvent::Type::ToolCall: {
      open_chunk(w, ev.choice);
      const auto& tc = ev.tool_call;
      w.key("tool_calls").begin_array().begin_object().field_int("index", tc.index);
      if (!tc.id.empty()) w.field("id", tc.id).field("type", "function");
      w.key("function").begin_object();
      if (!tc.name.empty()) w.field("name", tc.name);
      w.field("arguments", tc.arguments);
      w.end_object().end_object().end_array();
      return close_chunk(w, "");
    }
    case StreamEvent::Type::Finish:
      open_chunk(w, ev.choice);
      return close_chunk(w, ev.finish_reason.empty() ? "stop" : ev.finish_reason);
    case StreamEvent::Type::Usage: {
      if (!include_usage_) return {};  // warden asked upstream for it; the caller did not
      if (id_.empty()) id_ = new_completion_id();
      w.begin_object();
      w.field("id", id_).field("object", "chat.completion.chunk").field_int("created", created_).field("model", model_);
      w.key("choices").begin_array().end_array();
      w.key("usage");
      write_usage(w, ev.usage);
      w.end_object();
      std::string out = "data: ";
      out += w.str();
      out += "\n\n";
      return out;
    }
    case StreamEvent::Type::Error: {
      error_sent_ = true;
      w.begin_object().key("error");
      write_error_object(w, ev.error);
      w.end_object();
      std::string out = "data: ";
      out += w.str();
      out += "\n\n";
      return out;
    }
    case StreamEvent::Type::KeepAlive:
      return ": keep-alive\n\n";
  }
  return {};
}

std::string ChunkEncoder::end(const Error* error) {
  std::string out;
  if (error && !error_sent_) {
    StreamEvent ev;
    ev.type = StreamEvent::Type::Error;
    ev.error = *error;
    out = encode(ev);
  }
  out += "data: [DONE]\n\n";
  return out;
}

// ---- ResponseAggregator -------------------------------------------------------------

ResponseAggregator::ResponseAggregator(std::string fallback_model)
    : model_(std::move(fallback_model)), created_(now_unix()) {}

void ResponseAggregator::add(const StreamEvent& ev) {
  switch (ev.type) {
    case StreamEvent::Type::Start:
      if (!ev.id.empty()) id_ = ev.id;
      if (!ev.model.empty()) model_ = ev.model;
      choices_[ev.choice];
      break;
    case StreamEvent::Type::Content: {
      auto& c = choices_[ev.choice];
      c.content += ev.text;
      c.has_content = true;
      append_entries(c.content_logprobs, ev.logprobs);
      break;
    }
    case StreamEvent::Type::Reasoning: {
      auto& c = choices_[ev.choice];
      c.reasoning += ev.text;
      c.has_reasoning = true;
      append_entries(c.reasoning_logprobs, ev.logprobs);
      break;
    }
    case StreamEvent::Type::ToolCall: {
      auto& call = choices_[ev.choice].calls[ev.tool_call.index];
      if (!ev.tool_call.id.empty()) call.id = ev.tool_call.id;
      if (!ev.tool_call.name.empty()) call.name += ev.tool_call.name;
      call.arguments += ev.tool_call.arguments;
      break;
    }
    case StreamEvent::Type::Finish:
      choices_[ev.choice].finish_reason = ev.finish_reason;
      break;
    case StreamEvent::Type::Usage:
      usage_ = ev.usage;
      break;
    case StreamEvent::Type::Error:
    case StreamEvent::Type::KeepAlive:
      break;
  }
}

std::string ResponseAggregator::body() const {
  json::Writer w;
  w.begin_object();
  w.field("id", id_.empty() ? new_completion_id() : id_);
  w.field("object", "chat.completion").field_int("created", created_).field("model", model_);
  w.key("choices").begin_array();
  auto write_choice = [&](int index, const Choice& c) {
    w.begin_object().field_int("index", index);
    w.key("message").begin_object().field("role", "assistant");
    w.key("content");
    if (c.has_content || c.calls.empty()) w.string(c.content); else w.null();
    if (c.has_reasoning) w.field("reasoning_content", c.reasoning);
    if (!c.calls.empty()) {
      w.key("tool_calls").begin_array();
      for (const auto& [i, call] : c.calls) {
        w.begin_object().field("id", call.id).field("type", "function");
        w.key("function").begin_object().field("name", call.name).field("arguments", call.arguments).end_object();
        w.end_object();
      }
      w.end_array();
    }
    w.end_object();  // message
    write_logprobs(w, c.content_logprobs, c.reasoning_logprobs);
    w.field("finish_reason", c.finish_reason.empty() ? "stop" : std::string_view(c.finish_reason));
    w.end_object();
  };
  if (choices_.empty()) write_choice(0, Choice{});
  for (const auto& [i, c] : choices_) write_choice(i, c);
  w.end_array();
  w.key("usage");
  write_usage(w, usage_);
  w.end_object();
  return w.take();
}

}  // namespace warden::api::openai
