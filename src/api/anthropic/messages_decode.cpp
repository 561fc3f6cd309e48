#include "warden/api/anthropic/messages_decode.hpp"

#include <algorithm>

#include <simdjson.h>

#include <string>

#include "warden/api/json_writer.hpp"

namespace warden::api::anthropic {

namespace dom = simdjson::dom;

namespace {

Error bad(std::string message, std::string param = "") {
  Error e;
  e.http_status = 400;
  e.type = "invalid_request_error";
  e.code = "invalid_request_error";
  e.param = std::move(param);
  e.message = std::move(message);
  return e;
}

Error wrong_type(const std::string& field, const char* expected) {
  return bad(field + ": expected " + expected, field);
}

std::string str(dom::element e) {
  std::string_view s;
  if (e.get_string().get(s)) return {};
  return std::string(s);
}

bool get_str(dom::object o, const char* key, std::string& out) {
  std::string_view s;
  if (o[key].get_string().get(s)) return false;
  out.assign(s);
  return true;
}

// Text of a tool_result `content`: a string, or text blocks joined. Non-text blocks
// (images) are kept out: an OpenAI tool message carries text only.
std::optional<Error> tool_result_text(dom::element content, const std::string& field, std::string& out) {
  if (content.is_string()) {
    out = str(content);
    return std::nullopt;
  }
  if (content.is_null()) return std::nullopt;
  dom::array arr;
  if (content.get_array().get(arr)) return wrong_type(field, "a string or an array of content blocks");
  for (dom::element b : arr) {
    std::string type, text;
    dom::object bo;
    if (b.get_object().get(bo)) return wrong_type(field, "content blocks");
    get_str(bo, "type", type);
    if (type == "text" && get_str(bo, "text", text)) {
      if (!out.empty()) out += "\n";
      out += text;
    }
  }
  return std::nullopt;
}

}  // namespace

std::string image_block_to_openai(std::string_view block_json) {
  dom::parser parser;
  dom::element doc;
  if (parser.parse(block_json.data(), block_json.size()).get(doc)) return {};
  dom::object src;
  if (doc["source"].get_object().get(src)) return {};
  std::string type, url;
  get_str(src, "type", type);
  if (type == "base64") {
    std::string media, data;
    get_str(src, "media_type", media);
    get_str(src, "data", data);
    url = "data:" + media + ";base64," + data;
  } else if (type == "url") {
    get_str(src, "url", url);
  }
  if (url.empty()) return {};
  json::Writer w;
  w.begin_object().field("type", "image_url").key("image_url").begin_object().field("url", url).end_object().end_object();
  return w.take();
}

Result<ChatRequest> decode_messages_request(std::string_view body, bool require_max_tokens) {
  dom::parser parser;
  dom::element doc;
  if (parser.parse(body.data(), body.size()).get(doc)) return bad("The request body is not valid JSON");
  dom::object root;
  if (doc.get_object().get(root)) return bad("The request body must be a JSON object");

  ChatRequest req;
  req.include_usage = true;  // Anthropic answers always carry usage
  bool has_max_tokens = false, has_messages = false;

  std::vector<std::string_view> seen;
  for (auto field : root) {
    std::string key(field.key);
    dom::element v = field.value;
    // A repeated key: parsers disagree on which copy wins, so a filter and the upstream
    // could read different requests. Refused.
    if (std::find(seen.begin(), seen.end(), field.key) != seen.end())
      return bad(key + ": appears more than once in the request", key);
    seen.push_back(field.key);
    if (key == "model") {
      if (!v.is_string()) return wrong_type("model", "a string");
      req.model = str(v);
    } else if (key == "max_tokens") {
      int64_t n;
      if (v.get_int64().get(n)) return wrong_type("max_tokens", "an integer");
      if (n < 1) return bad("max_tokens: must be at least 1", "max_tokens");
      req.max_tokens = n;
      has_max_tokens = true;
    } else if (key == "system") {
      Message sys;
      sys.role = "system";
      if (v.is_string()) {
        sys.content.push_back(ContentPart{ContentPart::Type::Text, str(v), ""});
      } else {
        dom::array arr;
        if (v.get_array().get(arr)) return wrong_type("system", "a string or an array of text blocks");
        sys.content_is_array = true;
        for (dom::element b : arr) {
          std::string text;
          dom::object bo;
          if (b.get_object().get(bo) || !get_str(bo, "text", text)) return wrong_type("system", "text blocks");
          sys.content.push_back(ContentPart{ContentPart::Type::Text, text, ""});
        }
      }
      req.messages.insert(req.messages.begin(), std::move(sys));
    } else if (key == "messages") {
      dom::array arr;
      if (v.get_array().get(arr)) return wrong_type("messages", "an array");
      has_messages = true;
      size_t i = 0;
      for (dom::element me : arr) {
        const std::string mfield = "messages." + std::to_string(i++);
        dom::object mo;
        if (me.get_object().get(mo)) return wrong_type(mfield, "an object");
        {
          std::vector<std::string_view> keys;
          for (auto f : mo) {
            if (std::find(keys.begin(), keys.end(), f.key) != keys.end())
              return bad(mfield + "." + std::string(f.key) + ": appears more than once", mfield + "." + std::string(f.key));
            keys.push_back(f.key);
          }
        }
        std::string role;
        if (!get_str(mo, "role", role)) return bad(mfield + ".role: Field required", mfield + ".role");
        if (role != "user" && role != "assistant")
          return bad(mfield + ".role: Input should be 'user' or 'assistant'", mfield + ".role");
        dom::element content;
        if (mo["content"].get(content)) return bad(mfield + ".content: Field required", mfield + ".content");

        Message m;
        m.role = role;
        std::vector<Message> tool_msgs;  // tool_result blocks, sent before the user's own text
        if (content.is_string()) {
          m.content.push_back(ContentPart{ContentPart::Type::Text, str(content), ""});
        } else {
          dom::array blocks;
          if (content.get_array().get(blocks)) return wrong_type(mfield + ".content", "a string or an array of content blocks");
          m.content_is_array = true;
          size_t j = 0;
          for (dom::element be : blocks) {
            const std::string bfield = mfield + ".content." + std::to_string(j++);
            dom::object bo;
            if (be.get_object().get(bo)) return wrong_type(bfield, "an object");
            std::string type;
            if (!get_str(bo, "type", type)) return bad(bfield + ".type: Field required", bfield + ".type");
            if (type == "text") {
              std::string text;
              if (!get_str(bo, "text", text)) return bad(bfield + ".text: Field required", bfield + ".text");
              m.content.push_back(ContentPart{ContentPart::Type::Text, std::move(text), ""});
            } else if (type == "image") {
              std::string part = image_block_to_openai(simdjson::minify(be));
              if (part.empty()) return bad(bfield + ".source: unsupported image source", bfield + ".source");
              m.content.push_back(ContentPart{ContentPart::Type::Image, "", std::move(part)});
            } else if (type == "tool_use") {
              if (role != "assistant") return bad(bfield + ": tool_use blocks belong to assistant turns", bfield);
              ToolCall call;
              get_str(bo, "id", call.id);
              get_str(bo, "name", call.name);
              dom::element input;
              call.arguments = bo["input"].get(input) ? "{}" : simdjson::minify(input);
              m.tool_calls.push_back(std::move(call));
            } else if (type == "tool_result") {
              if (role != "user") return bad(bfield + ": tool_result blocks belong to user turns", bfield);
              Message tm;
              tm.role = "tool";
              if (!get_str(bo, "tool_use_id", tm.tool_call_id))
                return bad(bfield + ".tool_use_id: Field required", bfield + ".tool_use_id");
              bool is_error = false;
              if (!bo["is_error"].get_bool().get(is_error)) tm.tool_error = is_error;
              std::string text;
              dom::element rc;
              if (!bo["content"].get(rc))
                if (auto e = tool_result_text(rc, bfield + ".content", text)) return *e;
              tm.content.push_back(ContentPart{ContentPart::Type::Text, std::move(text), ""});
              tool_msgs.push_back(std::move(tm));
            } else if (type == "thinking") {
              std::string thinking, signature;
              get_str(bo, "thinking", thinking);
              get_str(bo, "signature", signature);
              m.reasoning_content = m.reasoning_content.value_or("") + thinking;
              if (!signature.empty()) m.reasoning_signature = signature;
            } else if (type == "redacted_thinking") {
              // Opaque and only meaningful to Anthropic itself; there is no canonical slot.
            } else {
              // document, search_result, …: kept as received for Anthropic-format upstreams.
              m.content.push_back(ContentPart{ContentPart::Type::Other, "", simdjson::minify(be)});
            }
          }
        }
        for (auto& tm : tool_msgs) req.messages.push_back(std::move(tm));
        // A user turn made only of tool results adds no user message of its own.
        if (!(role == "user" && !tool_msgs.empty() && m.content.empty())) {
          if (role == "assistant" && m.content.empty() && !m.tool_calls.empty()) m.content_null = true;
          req.messages.push_back(std::move(m));
        }
      }
    } else if (key == "tools") {
      dom::array arr;
      if (v.get_array().get(arr)) return wrong_type("tools", "an array");
      size_t i = 0;
      for (dom::element te : arr) {
        const std::string tfield = "tools." + std::to_string(i++);
        dom::object to;
        if (te.get_object().get(to)) return wrong_type(tfield, "an object");
        ToolDefinition tool;
        if (!get_str(to, "name", tool.name)) return bad(tfield + ".name: Field required", tfield + ".name");
        get_str(to, "description", tool.description);
        dom::element schema;
        if (!to["input_schema"].get(schema)) tool.parameters_json = simdjson::minify(schema);
        req.tools.push_back(std::move(tool));
      }
    } else if (key == "tool_choice") {
      dom::object tc;
      if (v.get_object().get(tc)) return wrong_type("tool_choice", "an object");
      std::string type, name;
      get_str(tc, "type", type);
      bool disable_parallel = false;
      if (!tc["disable_parallel_tool_use"].get_bool().get(disable_parallel) && disable_parallel)
        req.parallel_tool_calls = false;
      if (type == "auto") req.tool_choice_json = "\"auto\"";
      else if (type == "any") req.tool_choice_json = "\"required\"";
      else if (type == "none") req.tool_choice_json = "\"none\"";
      else if (type == "tool" && get_str(tc, "name", name)) {
        json::Writer w;
        w.begin_object().field("type", "function").key("function").begin_object().field("name", name).end_object().end_object();
        req.tool_choice_json = w.take();
      } else {
        return bad("tool_choice.type: expected auto, any, tool (with name) or none", "tool_choice");
      }
    } else if (key == "stop_sequences") {
      dom::array arr;
      if (v.get_array().get(arr)) return wrong_type("stop_sequences", "an array of strings");
      for (dom::element s : arr) {
        if (!s.is_string()) return wrong_type("stop_sequences", "an array of strings");
        req.stop.push_back(str(s));
      }
    } else if (key == "stream") {
      if (v.get_bool().get(req.stream)) return wrong_type("stream", "a boolean");
    } else if (key == "temperature" || key == "top_p") {
      double d;
      if (v.get_double().get(d)) return wrong_type(key, "a number");
      (key == "temperature" ? req.temperature : req.top_p) = d;
    } else if (key == "top_k") {
      int64_t k;
      if (v.get_int64().get(k)) return wrong_type("top_k", "an integer");
      req.top_k = k;
    } else if (key == "metadata") {
      dom::object mo;
      if (v.get_object().get(mo)) return wrong_type("metadata", "an object");
      get_str(mo, "user_id", req.user);
    } else if (key == "thinking") {
      if (!v.is_object()) return wrong_type("thinking", "an object");
      req.thinking_json = simdjson::minify(v);
    }
    // other fields (service_tier, container, …): dropped, see the header.
  }
  if (!has_max_tokens && require_max_tokens) return bad("max_tokens: Field required", "max_tokens");
  if (!has_messages) return bad("messages: Field required", "messages");
  if (req.model.empty()) return bad("model: Field required", "model");
  return req;
}

}  // namespace warden::api::anthropic
