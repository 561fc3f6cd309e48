#include "warden/api/anthropic/stream_decode.hpp"

#include <simdjson.h>

#include "warden/api/anthropic/messages_encode.hpp"

namespace warden::api::anthropic {

namespace dom = simdjson::dom;

namespace {

std::string get_string(dom::element e, std::string_view key) {
  std::string_view s;
  if (e[key].get_string().get(s)) return {};
  return std::string(s);
}

int64_t get_int(dom::element e, std::string_view key, int64_t fallback = 0) {
  int64_t v;
  if (e[key].get_int64().get(v)) return fallback;
  return v;
}

}  // namespace

Usage usage_from_anthropic(int64_t input, int64_t output, int64_t cache_read, int64_t cache_creation) {
  Usage u;
  u.present = true;
  u.prompt_tokens = input + cache_read + cache_creation;
  u.completion_tokens = output;
  u.cache_hit_tokens = cache_read;
  u.cache_write_tokens = cache_creation;
  return u;
}

std::vector<StreamEvent> StreamDecoder::feed(std::string_view name, std::string_view data) {
  std::vector<StreamEvent> out;
  dom::parser parser;
  dom::element doc;
  if (parser.parse(data.data(), data.size()).get(doc)) return out;
  std::string type = get_string(doc, "type");
  if (type.empty()) type = std::string(name);

  auto apply_usage = [&](dom::element u) {
    // Fields present overwrite (they are cumulative totals); absent ones keep their value.
    int64_t input = usage_.prompt_tokens - usage_.cache_hit_tokens - usage_.cache_write_tokens;
    input = get_int(u, "input_tokens", input);
    int64_t read = get_int(u, "cache_read_input_tokens", usage_.cache_hit_tokens);
    int64_t write = get_int(u, "cache_creation_input_tokens", usage_.cache_write_tokens);
    int64_t output = get_int(u, "output_tokens", usage_.completion_tokens);
    usage_ = usage_from_anthropic(input, output, read, write);
  };

  if (type == "message_start") {
    dom::element msg;
    if (doc["message"].get(msg)) return out;
    StreamEvent ev;
    ev.type = StreamEvent::Type::Start;
    ev.id = get_string(msg, "id");
    ev.model = model_ = get_string(msg, "model");
    dom::element u;
    if (!msg["usage"].get(u)) apply_usage(u);
    out.push_back(std::move(ev));
  } else if (type == "content_block_start") {
    int64_t index = get_int(doc, "index", int64_t(block_tool_.size()));
    dom::element block;
    if (doc["content_block"].get(block)) return out;
    std::string btype = get_string(block, "type");
    if (index >= 0 && size_t(index) >= block_tool_.size()) block_tool_.resize(size_t(index) + 1, -1);
    if (btype == "tool_use" || btype == "server_tool_use") {
      int tool = next_tool_++;
      if (index >= 0) block_tool_[size_t(index)] = tool;
      StreamEvent ev;
      ev.type = StreamEvent::Type::ToolCall;
      ev.tool_call.index = tool;
      ev.tool_call.id = get_string(block, "id");
      ev.tool_call.name = get_string(block, "name");
      // Usually {} with the input streamed as input_json_delta; a non-empty input here is whole.
      dom::object input;
      if (!block["input"].get_object().get(input) && input.size() > 0) ev.tool_call.arguments = simdjson::minify(input);
      out.push_back(std::move(ev));
    } else if (btype == "text") {
      std::string text = get_string(block, "text");
      if (!text.empty()) {
        StreamEvent ev;
        ev.type = StreamEvent::Type::Content;
        ev.text = std::move(text);
        out.push_back(std::move(ev));
      }
    } else if (btype == "thinking") {
      std::string text = get_string(block, "thinking");
      std::string sig = get_string(block, "signature");
      if (!text.empty() || !sig.empty()) {
        StreamEvent ev;
        ev.type = StreamEvent::Type::Reasoning;
        ev.text = std::move(text);
        ev.signature = std::move(sig);
        out.push_back(std::move(ev));
      }
    }
  } else if (type == "content_block_delta") {
    int64_t index = get_int(doc, "index", -1);
    dom::element delta;
    if (doc["delta"].get(delta)) return out;
    std::string dtype = get_string(delta, "type");
    StreamEvent ev;
    if (dtype == "text_delta") {
      ev.type = StreamEvent::Type::Content;
      ev.text = get_string(delta, "text");
    } else if (dtype == "thinking_delta") {
      ev.type = StreamEvent::Type::Reasoning;
      ev.text = get_string(delta, "thinking");
    } else if (dtype == "signature_delta") {
      ev.type = StreamEvent::Type::Reasoning;
      ev.signature = get_string(delta, "signature");
    } else if (dtype == "input_json_delta") {
      if (index < 0 || size_t(index) >= block_tool_.size() || block_tool_[size_t(index)] < 0) return out;
      ev.type = StreamEvent::Type::ToolCall;
      ev.tool_call.index = block_tool_[size_t(index)];
      ev.tool_call.arguments = get_string(delta, "partial_json");
      if (ev.tool_call.arguments.empty()) return out;
    } else {
      return out;  // citations_delta, …: nothing canonical
    }
    out.push_back(std::move(ev));
  } else if (type == "message_delta") {
    dom::element delta;
    if (!doc["delta"].get(delta)) {
      std::string stop = get_string(delta, "stop_reason");
      if (!stop.empty()) {
        finish_reason_ = finish_reason_for(stop);
        StreamEvent ev;
        ev.type = StreamEvent::Type::Finish;
        ev.finish_reason = finish_reason_;
        out.push_back(std::move(ev));
      }
    }
    dom::element u;
    if (!doc["usage"].get(u)) apply_usage(u);
  } else if (type == "message_stop") {
    done_ = true;
    StreamEvent ev;
    ev.type = StreamEvent::Type::Usage;
    ev.usage = usage_;
    ev.usage.present = true;
    out.push_back(std::move(ev));
  } else if (type == "ping") {
    StreamEvent ev;
    ev.type = StreamEvent::Type::KeepAlive;
    out.push_back(std::move(ev));
  } else if (type == "error") {
    StreamEvent ev;
    ev.type = StreamEvent::Type::Error;
    dom::element err;
    std::string etype, message = "upstream error";
    if (!doc["error"].get(err)) {
      etype = get_string(err, "type");
      std::string m = get_string(err, "message");
      if (!m.empty()) message = m;
    }
    ev.error = error_from_type(etype, message);
    out.push_back(std::move(ev));
  }
  return out;
}

std::vector<StreamEvent> decode_message_response(std::string_view body, bool* ok) {
  std::vector<StreamEvent> out;
  if (ok) *ok = false;
  dom::parser parser;
  dom::element doc;
  if (parser.parse(body.data(), body.size()).get(doc)) return out;
  if (get_string(doc, "type") != "message") return out;
  if (ok) *ok = true;
  StreamEvent start;
  start.type = StreamEvent::Type::Start;
  start.id = get_string(doc, "id");
  start.model = get_string(doc, "model");
  out.push_back(start);
  dom::array content;
  int tool = 0;
  if (!doc["content"].get_array().get(content)) {
    for (dom::element b : content) {
      std::string t = get_string(b, "type");
      StreamEvent ev;
      if (t == "text") {
        ev.type = StreamEvent::Type::Content;
        ev.text = get_string(b, "text");
      } else if (t == "thinking") {
        ev.type = StreamEvent::Type::Reasoning;
        ev.text = get_string(b, "thinking");
        ev.signature = get_string(b, "signature");
      } else if (t == "tool_use") {
        ev.type = StreamEvent::Type::ToolCall;
        ev.tool_call.index = tool++;
        ev.tool_call.id = get_string(b, "id");
        ev.tool_call.name = get_string(b, "name");
        dom::element input;
        ev.tool_call.arguments = b["input"].get(input) ? "{}" : simdjson::minify(input);
      } else {
        continue;
      }
      out.push_back(std::move(ev));
    }
  }
  StreamEvent fin;
  fin.type = StreamEvent::Type::Finish;
  fin.finish_reason = finish_reason_for(get_string(doc, "stop_reason"));
  out.push_back(fin);
  dom::element u;
  if (!doc["usage"].get(u)) {
    StreamEvent ue;
    ue.type = StreamEvent::Type::Usage;
    ue.usage = usage_from_anthropic(get_int(u, "input_tokens"), get_int(u, "output_tokens"),
                                    get_int(u, "cache_read_input_tokens"), get_int(u, "cache_creation_input_tokens"));
    out.push_back(ue);
  }
  return out;
}

}  // namespace warden::api::anthropic
