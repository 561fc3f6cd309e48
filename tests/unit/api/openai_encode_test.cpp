#include <simdjson.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "warden/api/json_writer.hpp"
#include "warden/api/openai/chat_encode.hpp"

using namespace warden::api;
using warden::Error;
using warden::api::openai::ChunkEncoder;
using warden::api::openai::ResponseAggregator;

namespace {

StreamEvent ev(StreamEvent::Type t, std::string text = {}) {
  StreamEvent e;
  e.type = t;
  e.text = std::move(text);
  return e;
}

StreamEvent tool(int index, std::string id, std::string name, std::string args) {
  StreamEvent e;
  e.type = StreamEvent::Type::ToolCall;
  e.tool_call.index = index;
  e.tool_call.id = std::move(id);
  e.tool_call.name = std::move(name);
  e.tool_call.arguments = std::move(args);
  return e;
}

std::vector<StreamEvent> answer() {
  std::vector<StreamEvent> v;
  StreamEvent s = ev(StreamEvent::Type::Start);
  s.id = "chatcmpl-up";
  s.model = "deepseek-v4-pro";
  v.push_back(s);
  v.push_back(ev(StreamEvent::Type::Reasoning, "Think "));
  v.push_back(ev(StreamEvent::Type::Reasoning, "hard."));
  v.push_back(ev(StreamEvent::Type::Content, "Calling "));
  v.push_back(tool(0, "call_a", "get_weather", ""));
  v.push_back(tool(1, "call_b", "get_time", "{\"tz\":"));
  v.push_back(tool(0, "", "", "{\"city\":"));
  v.push_back(tool(0, "", "", "\"Paris\"}"));
  v.push_back(tool(1, "", "", "\"UTC\"}"));
  StreamEvent f = ev(StreamEvent::Type::Finish);
  f.finish_reason = "tool_calls";
  v.push_back(f);
  StreamEvent u = ev(StreamEvent::Type::Usage);
  u.usage.present = true;
  u.usage.prompt_tokens = 100;
  u.usage.completion_tokens = 50;
  u.usage.cache_hit_tokens = 64;
  u.usage.reasoning_tokens = 30;
  v.push_back(u);
  return v;
}

simdjson::dom::element parse(simdjson::dom::parser& p, const std::string& s) {
  simdjson::dom::element e;
  REQUIRE_FALSE(p.parse(s).get(e));
  return e;
}

}  // namespace

TEST_CASE("JSON writer escapes control characters and repairs invalid UTF-8", "[json]") {
  std::string s = "a\"b\\c\n\t\x01\x1f caf\xC3\xA9 \xF0\x9F\x98\x80";
  CHECK(json::quote(s) == "\"a\\\"b\\\\c\\n\\t\\u0001\\u001f caf\xC3\xA9 \xF0\x9F\x98\x80\"");
  // A lone continuation byte, a truncated sequence, an overlong form and a surrogate.
  CHECK(json::quote("x\x80y") == "\"x\xEF\xBF\xBDy\"");
  CHECK(json::quote("x\xE2\x9C") == "\"x\xEF\xBF\xBD\xEF\xBF\xBD\"");
  CHECK(json::quote("\xC0\xAF") == "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");
  CHECK(json::quote("\xED\xA0\x80") == "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
  CHECK(json::valid_utf8(json::quote("\xFF\xFE bad \xC3")));
  json::Writer w;
  w.begin_object().field("a", "x").key("b").begin_array().integer(1).number(0.5).null().boolean(true).end_array();
  w.key("c").raw("{\"k\": 1}").end_object();
  CHECK(w.str() == R"({"a":"x","b":[1,0.5,null,true],"c":{"k": 1}})");
}

TEST_CASE("Chunk encoder writes OpenAI chunks, tool-call fragments, usage and [DONE]", "[encode]") {
  ChunkEncoder enc("enterprise-fast", /*include_usage=*/true);
  std::string out;
  for (const auto& e : answer()) out += enc.encode(e);
  out += enc.end(nullptr);

  // Split into SSE data lines and check each is a valid chunk.
  std::vector<std::string> datas;
  size_t pos = 0;
  while ((pos = out.find("data: ", pos)) != std::string::npos) {
    size_t end = out.find("\n\n", pos);
    datas.push_back(out.substr(pos + 6, end - pos - 6));
    pos = end;
  }
  REQUIRE(datas.size() == 12);
  CHECK(datas.back() == "[DONE]");
  simdjson::dom::parser p;
  std::string content, reasoning, args0, args1;
  std::string finish;
  for (size_t i = 0; i + 1 < datas.size(); ++i) {
    auto c = parse(p, datas[i]);
    CHECK(std::string_view(c["id"]) == "chatcmpl-up");
    CHECK(std::string_view(c["object"]) == "chat.completion.chunk");
    CHECK(std::string_view(c["model"]) == "deepseek-v4-pro");
    simdjson::dom::array choices = c["choices"];
    if (choices.size() == 0) {
      CHECK(int64_t(c["usage"]["prompt_tokens"]) == 100);
      CHECK(int64_t(c["usage"]["total_tokens"]) == 150);
      CHECK(int64_t(c["usage"]["prompt_cache_hit_tokens"]) == 64);
      CHECK(int64_t(c["usage"]["prompt_cache_miss_tokens"]) == 36);
      CHECK(int64_t(c["usage"]["prompt_tokens_details"]["cached_tokens"]) == 64);
      CHECK(int64_t(c["usage"]["completion_tokens_details"]["reasoning_tokens"]) == 30);
      continue;
    }
    CHECK(c["usage"].is_null());  // include_usage: every other chunk carries usage: null
    auto delta = choices.at(0)["delta"];
    if (i == 0) CHECK(std::string_view(delta["role"]) == "assistant");
    std::string_view s;
    if (!delta["content"].get(s)) content += s;
    if (!delta["reasoning_content"].get(s)) reasoning += s;
    simdjson::dom::array calls;
    if (!delta["tool_calls"].get(calls)) {
      for (auto call : calls) {
        int64_t index = call["index"];
        std::string_view a = call["function"]["arguments"];
        (index == 0 ? args0 : args1) += a;
        std::string_view id;
        if (!call["id"].get(id)) {
          CHECK(std::string_view(call["type"]) == "function");
          CHECK(std::string_view(call["function"]["name"]) == (index == 0 ? "get_weather" : "get_time"));
        }
      }
    }
    if (!choices.at(0)["finish_reason"].get(s)) finish = s;
  }
  CHECK(content == "Calling ");
  CHECK(reasoning == "Think hard.");
  CHECK(args0 == "{\"city\":\"Paris\"}");
  CHECK(args1 == "{\"tz\":\"UTC\"}");
  CHECK(finish == "tool_calls");
}

TEST_CASE("Chunk encoder drops the usage chunk when the caller did not ask; errors end the stream", "[encode]") {
  ChunkEncoder enc("m", /*include_usage=*/false);
  std::string out;
  for (const auto& e : answer()) out += enc.encode(e);
  CHECK(out.find("\"usage\"") == std::string::npos);
  CHECK(enc.encode(ev(StreamEvent::Type::KeepAlive)) == ": keep-alive\n\n");
  Error err{502, "upstream_reset", "Provider 'deepseek': upstream closed the connection mid-response", "server_error",
            ""};
  std::string tail = enc.end(&err);
  CHECK(tail ==
        "data: {\"error\":{\"message\":\"Provider 'deepseek': upstream closed the connection mid-response\","
        "\"type\":\"server_error\",\"param\":null,\"code\":\"upstream_reset\"}}\n\ndata: [DONE]\n\n");
}

TEST_CASE("Aggregator builds one chat.completion from the events", "[aggregate]") {
  ResponseAggregator agg("enterprise-fast");
  for (const auto& e : answer()) agg.add(e);
  simdjson::dom::parser p;
  const std::string body = agg.body();
  auto b = parse(p, body);
  CHECK(std::string_view(b["id"]) == "chatcmpl-up");
  CHECK(std::string_view(b["object"]) == "chat.completion");
  CHECK(std::string_view(b["model"]) == "deepseek-v4-pro");
  auto msg = b["choices"].at(0)["message"];
  CHECK(std::string_view(msg["role"]) == "assistant");
  CHECK(std::string_view(msg["content"]) == "Calling ");
  CHECK(std::string_view(msg["reasoning_content"]) == "Think hard.");
  simdjson::dom::array calls = msg["tool_calls"];
  REQUIRE(calls.size() == 2);
  CHECK(std::string_view(calls.at(0)["id"]) == "call_a");
  CHECK(std::string_view(calls.at(0)["function"]["name"]) == "get_weather");
  CHECK(std::string_view(calls.at(0)["function"]["arguments"]) == "{\"city\":\"Paris\"}");
  CHECK(std::string_view(calls.at(1)["id"]) == "call_b");
  CHECK(std::string_view(calls.at(1)["function"]["arguments"]) == "{\"tz\":\"UTC\"}");
  CHECK(std::string_view(b["choices"].at(0)["finish_reason"]) == "tool_calls");
  CHECK(int64_t(b["usage"]["prompt_tokens"]) == 100);
  CHECK(int64_t(b["usage"]["completion_tokens"]) == 50);
  CHECK(int64_t(b["usage"]["total_tokens"]) == 150);
  CHECK(int64_t(b["usage"]["prompt_cache_hit_tokens"]) == 64);
  CHECK(int64_t(b["usage"]["prompt_cache_miss_tokens"]) == 36);
  CHECK(int64_t(b["usage"]["completion_tokens_details"]["reasoning_tokens"]) == 30);

  // Only tool calls: content is null.
  ResponseAggregator only_tools("m");
  only_tools.add(tool(0, "call_x", "f", "{}"));
  auto b2 = parse(p, only_tools.body());
  CHECK(b2["choices"].at(0)["message"]["content"].is_null());
}

TEST_CASE("Error bodies use the OpenAI shape with a derived type", "[encode]") {
  CHECK(warden::api::openai::error_body(Error{401, "invalid_api_key", "Incorrect API key provided.", "", ""}) ==
        R"({"error":{"message":"Incorrect API key provided.","type":"authentication_error","param":null,"code":"invalid_api_key"}})");
  CHECK(warden::api::openai::error_body(Error{400, "invalid_type", "bad", "invalid_request_error", "messages"}) ==
        R"({"error":{"message":"bad","type":"invalid_request_error","param":"messages","code":"invalid_type"}})");
  CHECK(warden::api::openai::error_body(Error{503, "", "x", "", ""}) ==
        R"({"error":{"message":"x","type":"server_error","param":null,"code":null}})");
}
