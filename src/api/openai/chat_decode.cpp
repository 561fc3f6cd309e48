#include "warden/api/openai/chat_decode.hpp"

#include <simdjson.h>

#include <string>
#include <vector>

namespace warden::api::openai {

namespace od = simdjson::ondemand;

namespace {

Error bad(std::string code, std::string param, std::string message) {
  Error e;
  e.http_status = 400;
  e.type = "invalid_request_error";
  e.code = std::move(code);
  e.param = std::move(param);
  e.message = std::move(message);
  return e;
}

Error wrong_type(const std::string& param, const char* expected) {
  return bad("invalid_type", param, "Invalid type for '" + param + "': expected " + expected + ".");
}

// A key seen twice in one object: JSON parsers disagree on which copy wins (first, last,
// both), so a filter and an upstream could read different requests. Refused.
bool repeated(std::vector<std::string>& seen, std::string_view key) {
  for (const auto& k : seen)
    if (k == key) return true;
  seen.emplace_back(key);
  return false;
}
Error duplicate_key(const std::string& param) {
  return bad("duplicate_key", param, "The key '" + param + "' appears more than once in its object.");
}

Error malformed(const std::string& param) {
  return bad("invalid_json", param, "The request body is not valid JSON (at '" + param + "').");
}

std::string_view trim_ws(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// The exact bytes of `v` as the caller sent them (objects and arrays included).
// Scalars are also checked, since on-demand parsing validates only what it reads.
bool raw_of(od::value v, std::string_view& out) {
  od::json_type t;
  if (v.type().get(t)) return false;
  switch (t) {
    case od::json_type::object: {
      od::object o;
      if (v.get_object().get(o) || o.raw_json().get(out)) return false;
      out = trim_ws(out);  // the span runs up to the next token
      return true;
    }
    case od::json_type::array: {
      od::array a;
      if (v.get_array().get(a) || a.raw_json().get(out)) return false;
      out = trim_ws(out);
      return true;
    }
    case od::json_type::string: {
      out = trim_ws(v.raw_json_token());
      std::string_view s;
      return !v.get_string().get(s);
    }
    case od::json_type::number: {
      out = trim_ws(v.raw_json_token());
      od::number n;
      return !v.get_number().get(n);
    }
    case od::json_type::boolean: {
      out = trim_ws(v.raw_json_token());
      bool b;
      return !v.get_bool().get(b);
    }
    case od::json_type::null: {
      out = trim_ws(v.raw_json_token());
      bool is_null = false;
      return !v.is_null().get(is_null) && is_null;
    }
  }
  return false;
}

bool is_null(od::value& v) {
  od::json_type t;
  return !v.type().get(t) && t == od::json_type::null;
}

// Typed getters: nullopt-style "absent" for JSON null, an Error for the wrong type.
std::optional<Error> get_string(od::value v, const std::string& param, std::string& out) {
  std::string_view s;
  if (v.get_string().get(s)) return wrong_type(param, "a string");
  out.assign(s);
  return std::nullopt;
}

std::optional<Error> get_bool(od::value v, const std::string& param, bool& out) {
  if (v.get_bool().get(out)) return wrong_type(param, "a boolean");
  return std::nullopt;
}

std::optional<Error> get_int(od::value v, const std::string& param, std::optional<int64_t>& out) {
  if (is_null(v)) return std::nullopt;
  int64_t i;
  if (v.get_int64().get(i)) return wrong_type(param, "an integer");
  out = i;
  return std::nullopt;
}

std::optional<Error> get_double(od::value v, const std::string& param, std::optional<double>& out) {
  if (is_null(v)) return std::nullopt;
  double d;
  if (v.get_double().get(d)) return wrong_type(param, "a number");
  out = d;
  return std::nullopt;
}

std::optional<Error> get_raw(od::value v, const std::string& param, std::string& out) {
  std::string_view raw;
  if (!raw_of(v, raw)) return malformed(param);
  out.assign(raw);
  return std::nullopt;
}

// A content part is decoded from its own bytes so its exact text can be kept for
// re-emitting (images, audio, files) while its type and text are read.
std::optional<Error> decode_part(std::string_view raw, const std::string& param, ContentPart& part) {
  thread_local od::parser parser;
  simdjson::padded_string padded(raw);
  od::document doc;
  if (parser.iterate(padded).get(doc)) return malformed(param);
  od::object obj;
  if (doc.get_object().get(obj)) return wrong_type(param, "an object");
  std::string type;
  bool has_text = false;
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return malformed(param);
    od::value v;
    if (field.value().get(v)) return malformed(param);
    if (key == "type") {
      if (auto e = get_string(v, param + ".type", type)) return e;
    } else if (key == "text") {
      od::json_type t;
      if (!v.type().get(t) && t == od::json_type::string) {
        if (auto e = get_string(v, param + ".text", part.text)) return e;
        has_text = true;
      }
    }
  }
  if (type.empty()) return bad("missing_required_parameter", param + ".type", "Missing required parameter: '" + param + ".type'.");
  part.raw_json.assign(raw);
  if (type == "text") {
    if (!has_text) return bad("missing_required_parameter", param + ".text", "Missing required parameter: '" + param + ".text'.");
    part.type = ContentPart::Type::Text;
  } else if (type == "image_url") {
    part.type = ContentPart::Type::Image;
  } else {
    part.type = ContentPart::Type::Other;
  }
  return std::nullopt;
}

std::optional<Error> decode_tool_call(od::value v, const std::string& param, ToolCall& call) {
  od::object obj;
  if (v.get_object().get(obj)) return wrong_type(param, "an object");
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return malformed(param);
    od::value fv;
    if (field.value().get(fv)) return malformed(param);
    if (key == "id") {
      if (auto e = get_string(fv, param + ".id", call.id)) return e;
    } else if (key == "function") {
      od::object fn;
      if (fv.get_object().get(fn)) return wrong_type(param + ".function", "an object");
      for (auto f2 : fn) {
        std::string_view k2;
        if (f2.unescaped_key().get(k2)) return malformed(param);
        od::value v2;
        if (f2.value().get(v2)) return malformed(param);
        if (k2 == "name") {
          if (auto e = get_string(v2, param + ".function.name", call.name)) return e;
        } else if (k2 == "arguments") {
          if (auto e = get_string(v2, param + ".function.arguments", call.arguments)) return e;
        }
      }
    }
    // `type` is always "function" in chat completions; other keys carry nothing we re-emit.
  }
  return std::nullopt;
}

std::optional<Error> decode_message(od::value v, const std::string& param, Message& m) {
  od::object obj;
  if (v.get_object().get(obj)) return wrong_type(param, "an object");
  bool has_role = false, has_content = false;
  std::vector<std::string> seen;
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return malformed(param);
    if (repeated(seen, key)) return duplicate_key(param + "." + std::string(key));
    od::value fv;
    if (field.value().get(fv)) return malformed(param);
    const std::string fparam = param + "." + std::string(key);
    if (key == "role") {
      if (auto e = get_string(fv, fparam, m.role)) return e;
      has_role = true;
    } else if (key == "content") {
      has_content = true;
      od::json_type t;
      if (fv.type().get(t)) return malformed(fparam);
      if (t == od::json_type::null) {
        m.content_null = true;
      } else if (t == od::json_type::string) {
        ContentPart part;
        if (auto e = get_string(fv, fparam, part.text)) return e;
        m.content.push_back(std::move(part));
      } else if (t == od::json_type::array) {
        m.content_is_array = true;
        od::array arr;
        if (fv.get_array().get(arr)) return malformed(fparam);
        size_t i = 0;
        for (auto elem : arr) {
          od::value ev;
          if (elem.get(ev)) return malformed(fparam);
          const std::string pparam = fparam + "[" + std::to_string(i++) + "]";
          std::string_view raw;
          if (!raw_of(ev, raw)) return malformed(pparam);
          ContentPart part;
          if (auto e = decode_part(raw, pparam, part)) return e;
          m.content.push_back(std::move(part));
        }
      } else {
        return wrong_type(fparam, "a string, an array of content parts or null");
      }
    } else if (key == "reasoning_content") {
      if (!is_null(fv)) {
        std::string s;
        if (auto e = get_string(fv, fparam, s)) return e;
        m.reasoning_content = std::move(s);
      }
    } else if (key == "tool_calls") {
      if (is_null(fv)) continue;
      od::array arr;
      if (fv.get_array().get(arr)) return wrong_type(fparam, "an array");
      size_t i = 0;
      for (auto elem : arr) {
        od::value ev;
        if (elem.get(ev)) return malformed(fparam);
        ToolCall call;
        if (auto e = decode_tool_call(ev, fparam + "[" + std::to_string(i++) + "]", call)) return e;
        m.tool_calls.push_back(std::move(call));
      }
    } else if (key == "tool_call_id") {
      if (auto e = get_string(fv, fparam, m.tool_call_id)) return e;
    } else if (key == "name") {
      if (auto e = get_string(fv, fparam, m.name)) return e;
    } else if (key == "prefix") {
      if (auto e = get_bool(fv, fparam, m.prefix)) return e;
    } else {
      std::string raw;
      if (auto e = get_raw(fv, fparam, raw)) return e;
      m.extra.emplace_back(std::string(key), std::move(raw));
    }
  }
  if (!has_role) return bad("missing_required_parameter", param + ".role", "Missing required parameter: '" + param + ".role'.");
  static constexpr std::string_view kRoles[] = {"system", "developer", "user", "assistant", "tool", "function"};
  bool known = false;
  for (auto r : kRoles) known = known || r == m.role;
  if (!known)
    return bad("invalid_value", param + ".role",
               "Invalid value for '" + param + ".role': expected one of system, developer, user, assistant, tool.");
  if (!has_content) {
    if (m.role != "assistant")
      return bad("missing_required_parameter", param + ".content", "Missing required parameter: '" + param + ".content'.");
    m.content_null = true;  // an assistant turn that only calls tools
  }
  if (m.role == "tool" && m.tool_call_id.empty())
    return bad("missing_required_parameter", param + ".tool_call_id",
               "Missing required parameter: '" + param + ".tool_call_id'.");
  return std::nullopt;
}

std::optional<Error> decode_tool(od::value v, const std::string& param, ToolDefinition& tool) {
  od::object obj;
  if (v.get_object().get(obj)) return wrong_type(param, "an object");
  std::string type;
  bool has_function = false;
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return malformed(param);
    od::value fv;
    if (field.value().get(fv)) return malformed(param);
    if (key == "type") {
      if (auto e = get_string(fv, param + ".type", type)) return e;
    } else if (key == "function") {
      has_function = true;
      od::object fn;
      if (fv.get_object().get(fn)) return wrong_type(param + ".function", "an object");
      for (auto f2 : fn) {
        std::string_view k2;
        if (f2.unescaped_key().get(k2)) return malformed(param);
        od::value v2;
        if (f2.value().get(v2)) return malformed(param);
        const std::string p2 = param + ".function." + std::string(k2);
        if (k2 == "name") {
          if (auto e = get_string(v2, p2, tool.name)) return e;
        } else if (k2 == "description") {
          if (!is_null(v2))
            if (auto e = get_string(v2, p2, tool.description)) return e;
        } else if (k2 == "parameters") {
          if (!is_null(v2))
            if (auto e = get_raw(v2, p2, tool.parameters_json)) return e;
        } else if (k2 == "strict") {
          if (!is_null(v2)) {
            bool b;
            if (auto e = get_bool(v2, p2, b)) return e;
            tool.strict = b;
          }
        }
      }
    }
  }
  if (type != "function")
    return bad("invalid_value", param + ".type", "Invalid value for '" + param + ".type': only 'function' tools are supported.");
  if (!has_function || tool.name.empty())
    return bad("missing_required_parameter", param + ".function.name",
               "Missing required parameter: '" + param + ".function.name'.");
  return std::nullopt;
}

std::optional<Error> decode_top(od::object& root, ChatRequest& req) {
  bool has_model = false, has_messages = false;
  std::vector<std::string> seen;
  for (auto field : root) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return malformed("body");
    if (repeated(seen, key)) return duplicate_key(std::string(key));
    od::value v;
    if (field.value().get(v)) return malformed(std::string(key));
    const std::string param(key);
    if (key == "model") {
      if (auto e = get_string(v, param, req.model)) return e;
      has_model = !req.model.empty();
    } else if (key == "messages") {
      od::array arr;
      if (v.get_array().get(arr)) return wrong_type(param, "an array");
      size_t i = 0;
      for (auto elem : arr) {
        od::value ev;
        if (elem.get(ev)) return malformed(param);
        Message m;
        if (auto e = decode_message(ev, "messages[" + std::to_string(i++) + "]", m)) return e;
        req.messages.push_back(std::move(m));
      }
      has_messages = true;
    } else if (key == "tools") {
      if (is_null(v)) continue;
      od::array arr;
      if (v.get_array().get(arr)) return wrong_type(param, "an array");
      size_t i = 0;
      for (auto elem : arr) {
        od::value ev;
        if (elem.get(ev)) return malformed(param);
        ToolDefinition tool;
        if (auto e = decode_tool(ev, "tools[" + std::to_string(i++) + "]", tool)) return e;
        req.tools.push_back(std::move(tool));
      }
    } else if (key == "tool_choice") {
      if (!is_null(v))
        if (auto e = get_raw(v, param, req.tool_choice_json)) return e;
    } else if (key == "parallel_tool_calls") {
      if (!is_null(v)) {
        bool b;
        if (auto e = get_bool(v, param, b)) return e;
        req.parallel_tool_calls = b;
      }
    } else if (key == "stream") {
      if (!is_null(v))
        if (auto e = get_bool(v, param, req.stream)) return e;
    } else if (key == "stream_options") {
      if (is_null(v)) continue;
      od::object so;
      if (v.get_object().get(so)) return wrong_type(param, "an object");
      for (auto f2 : so) {
        std::string_view k2;
        if (f2.unescaped_key().get(k2)) return malformed(param);
        od::value v2;
        if (f2.value().get(v2)) return malformed(param);
        if (k2 == "include_usage" && !is_null(v2))
          if (auto e = get_bool(v2, "stream_options.include_usage", req.include_usage)) return e;
      }
    } else if (key == "max_tokens" || key == "max_completion_tokens") {
      std::optional<int64_t> n;
      if (auto e = get_int(v, param, n)) return e;
      if (n && *n < 1) return bad("invalid_value", param, "Invalid value for '" + param + "': must be at least 1.");
      if (n) req.max_tokens = n;
    } else if (key == "temperature") {
      if (auto e = get_double(v, param, req.temperature)) return e;
      if (req.temperature && (*req.temperature < 0 || *req.temperature > 2))
        return bad("invalid_value", param, "Invalid value for 'temperature': must be between 0 and 2.");
    } else if (key == "top_p") {
      if (auto e = get_double(v, param, req.top_p)) return e;
    } else if (key == "top_k") {
      if (auto e = get_int(v, param, req.top_k)) return e;
    } else if (key == "presence_penalty") {
      if (auto e = get_double(v, param, req.presence_penalty)) return e;
    } else if (key == "frequency_penalty") {
      if (auto e = get_double(v, param, req.frequency_penalty)) return e;
    } else if (key == "seed") {
      if (auto e = get_int(v, param, req.seed)) return e;
    } else if (key == "n") {
      if (auto e = get_int(v, param, req.n)) return e;
      if (req.n && *req.n < 1) return bad("invalid_value", param, "Invalid value for 'n': must be at least 1.");
    } else if (key == "stop") {
      od::json_type t;
      if (v.type().get(t)) return malformed(param);
      if (t == od::json_type::null) continue;
      if (t == od::json_type::string) {
        std::string s;
        if (auto e = get_string(v, param, s)) return e;
        req.stop.push_back(std::move(s));
      } else if (t == od::json_type::array) {
        od::array arr;
        if (v.get_array().get(arr)) return malformed(param);
        for (auto elem : arr) {
          od::value ev;
          if (elem.get(ev)) return malformed(param);
          std::string s;
          if (auto e = get_string(ev, param, s)) return wrong_type(param, "a string or an array of strings");
          req.stop.push_back(std::move(s));
        }
      } else {
        return wrong_type(param, "a string or an array of strings");
      }
    } else if (key == "logprobs") {
      if (!is_null(v))
        if (auto e = get_bool(v, param, req.logprobs)) return e;
    } else if (key == "top_logprobs") {
      if (!is_null(v)) {
        if (auto e = get_int(v, param, req.top_logprobs)) return e;
        if (*req.top_logprobs < 0 || *req.top_logprobs > 20)
          return bad("invalid_value", param, "Invalid value for 'top_logprobs': must be between 0 and 20.");
      }
    } else if (key == "response_format") {
      if (!is_null(v)) {
        od::json_type t;
        if (v.type().get(t) || t != od::json_type::object) return wrong_type(param, "an object");
        if (auto e = get_raw(v, param, req.response_format_json)) return e;
      }
    } else if (key == "reasoning_effort") {
      if (!is_null(v))
        if (auto e = get_string(v, param, req.reasoning_effort)) return e;
    } else if (key == "thinking") {
      if (!is_null(v))
        if (auto e = get_raw(v, param, req.thinking_json)) return e;
    } else if (key == "user" || key == "user_id" || key == "safety_identifier") {
      // Every spelling of the end-user id (OpenAI `user` / `safety_identifier`, DeepSeek
      // `user_id`) lands in one field, which auth replaces by its keyed hash: none of them
      // may reach the upstream as the caller wrote it.
      if (!is_null(v)) {
        std::string id;
        if (auto e = get_string(v, param, id)) return e;
        if (req.user.empty() || key == "user") req.user = std::move(id);
      }
    } else if (key == "metadata") {
      // The caller's own metadata (stored-completion tags, end-user ids) stays here.
      std::string ignored;
      if (auto e = get_raw(v, param, ignored)) return e;
    } else {
      std::string raw;
      if (auto e = get_raw(v, param, raw)) return e;
      req.extra.emplace_back(param, std::move(raw));
    }
  }
  if (!has_model) return bad("missing_required_parameter", "model", "Missing required parameter: 'model'.");
  if (req.top_logprobs && !req.logprobs)
    return bad("invalid_value", "top_logprobs",
               "Invalid value for 'top_logprobs': 'logprobs' must be set to true when 'top_logprobs' is used.");
  if (!has_messages) return bad("missing_required_parameter", "messages", "Missing required parameter: 'messages'.");
  if (req.messages.empty())
    return bad("invalid_value", "messages", "Invalid value for 'messages': expected at least one message.");
  return std::nullopt;
}

}  // namespace

Result<ChatRequest> decode_chat_request(std::string_view body) {
  // Validate the whole document first: on-demand parsing only checks what it reads,
  // and a malformed byte inside a passed-through field must be a 400 here, not upstream.
  thread_local simdjson::dom::parser validator;
  simdjson::padded_string padded(body);
  simdjson::dom::element root_el;
  if (auto err = validator.parse(padded).get(root_el)) {
    return bad("invalid_json", "",
               std::string("We could not parse the JSON body of your request: ") + simdjson::error_message(err) + ".");
  }
  if (!root_el.is_object())
    return bad("invalid_type", "", "The request body must be a JSON object.");

  thread_local od::parser parser;
  od::document doc;
  if (parser.iterate(padded).get(doc)) return malformed("body");
  od::object root;
  if (doc.get_object().get(root)) return bad("invalid_type", "", "The request body must be a JSON object.");
  ChatRequest req;
  if (auto e = decode_top(root, req)) return *e;
  return req;
}

}  // namespace warden::api::openai
