#include <catch2/catch.hpp>
#include <string>

#include "warden/api/openai/chat_decode.hpp"
#include "warden/api/openai/chat_encode.hpp"

using namespace warden::api;
using warden::api::openai::decode_chat_request;
using warden::api::openai::encode_chat_request;
using warden::api::openai::UpstreamOptions;

namespace {

const char* kFull = R"({
  "model": "enterprise-fast",
  "messages": [
    {"role": "system", "content": "Be brief."},
    {"role": "developer", "content": "dev note"},
    {"role": "user", "content": [
        {"type": "text", "text": "What is in\nthis image? \u00e9"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA", "detail": "low"}}
    ], "name": "alice", "x_msg_flag": {"keep": [1, 2.50, "three"]}},
    {"role": "assistant", "content": null, "reasoning_content": "Need weather.",
     "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
    {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
    {"role": "assistant", "content": "The", "prefix": true}
  ],
  "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather by city",
             "parameters": {"type":"object","properties":{"city":{"type":"string"}}}, "strict": true}}],
  "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
  "parallel_tool_calls": false,
  "stream": true,
  "stream_options": {"include_usage": true},
  "max_completion_tokens": 256,
  "temperature": 0.7,
  "top_p": 0.9,
  "top_k": 40,
  "presence_penalty": 0.5,
  "frequency_penalty": -0.25,
  "seed": 42,
  "n": 2,
  "stop": ["\n\n", "END"],
  "logprobs": true,
  "top_logprobs": 3,
  "response_format": {"type": "json_object"},
  "reasoning_effort": "high",
  "thinking": {"type": "enabled"},
  "user": "user-123",
  "logit_bias": {"50256": -100},
  "metadata": {"a": [true, false, null], "b": 1e-7}
})";

}  // namespace

TEST_CASE("OpenAI decode reads every modelled field", "[decode]") {
  auto r = decode_chat_request(kFull);
  REQUIRE(r.has_value());
  const ChatRequest& q = *r;
  CHECK(q.model == "enterprise-fast");
  REQUIRE(q.messages.size() == 6);
  CHECK(q.messages[0].role == "system");
  CHECK_FALSE(q.messages[0].content_is_array);
  REQUIRE(q.messages[0].content.size() == 1);
  CHECK(q.messages[0].content[0].text == "Be brief.");
  CHECK(q.messages[1].role == "developer");

  const Message& u = q.messages[2];
  CHECK(u.content_is_array);
  REQUIRE(u.content.size() == 2);
  CHECK(u.content[0].type == ContentPart::Type::Text);
  CHECK(u.content[0].text == "What is in\nthis image? \xC3\xA9");
  CHECK(u.content[1].type == ContentPart::Type::Image);
  CHECK(u.content[1].raw_json ==
        R"({"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA", "detail": "low"}})");
  CHECK(u.name == "alice");
  REQUIRE(u.extra.size() == 1);
  CHECK(u.extra[0].first == "x_msg_flag");
  CHECK(u.extra[0].second == R"({"keep": [1, 2.50, "three"]})");

  const Message& a = q.messages[3];
  CHECK(a.content_null);
  REQUIRE(a.reasoning_content.has_value());
  CHECK(*a.reasoning_content == "Need weather.");
  REQUIRE(a.tool_calls.size() == 1);
  CHECK(a.tool_calls[0].id == "call_1");
  CHECK(a.tool_calls[0].name == "get_weather");
  CHECK(a.tool_calls[0].arguments == R"({"city":"Paris"})");

  CHECK(q.messages[4].role == "tool");
  CHECK(q.messages[4].tool_call_id == "call_1");
  CHECK(q.messages[5].prefix);

  REQUIRE(q.tools.size() == 1);
  CHECK(q.tools[0].name == "get_weather");
  CHECK(q.tools[0].description == "Weather by city");
  CHECK(q.tools[0].parameters_json == R"({"type":"object","properties":{"city":{"type":"string"}}})");
  CHECK(q.tools[0].strict == true);
  CHECK(q.tool_choice_json == R"({"type": "function", "function": {"name": "get_weather"}})");
  CHECK(q.parallel_tool_calls == false);
  CHECK(q.stream);
  CHECK(q.include_usage);
  CHECK(q.max_tokens == 256);
  CHECK(q.temperature == Approx(0.7));
  CHECK(q.top_p == Approx(0.9));
  CHECK(q.top_k == 40);
  CHECK(q.presence_penalty == Approx(0.5));
  CHECK(q.frequency_penalty == Approx(-0.25));
  CHECK(q.seed == 42);
  CHECK(q.n == 2);
  CHECK(q.stop == std::vector<std::string>{"\n\n", "END"});
  CHECK(q.logprobs);
  CHECK(q.top_logprobs == 3);
  CHECK(q.response_format_json == R"({"type": "json_object"})");
  CHECK(q.reasoning_effort == "high");
  CHECK(q.thinking_json == R"({"type": "enabled"})");
  CHECK(q.user == "user-123");
  // The caller's `metadata` is never forwarded (issue 14 item 4); other unknown fields are.
  REQUIRE(q.extra.size() == 1);
  CHECK(q.extra[0].first == "logit_bias");
  CHECK(q.extra[0].second == R"({"50256": -100})");
}

TEST_CASE("OpenAI decode: stop as a string, max_tokens, nulls as absent", "[decode]") {
  auto r = decode_chat_request(
      R"({"model":"m","messages":[{"role":"user","content":"hi"}],"stop":"x","max_tokens":5,
          "temperature":null,"tools":null,"user":null,"stream":null})");
  REQUIRE(r.has_value());
  CHECK(r->stop == std::vector<std::string>{"x"});
  CHECK(r->max_tokens == 5);
  CHECK_FALSE(r->temperature.has_value());
  CHECK_FALSE(r->stream);
}

TEST_CASE("OpenAI re-encode keeps unknown fields byte for byte", "[decode][encode]") {
  auto r = decode_chat_request(kFull);
  REQUIRE(r.has_value());
  const std::string out = encode_chat_request(*r);
  CHECK(out.find(R"("logit_bias":{"50256": -100})") != std::string::npos);
  CHECK(out.find(R"("metadata")") == std::string::npos);
  CHECK(out.find(R"("x_msg_flag":{"keep": [1, 2.50, "three"]})") != std::string::npos);
  CHECK(out.find(R"({"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA", "detail": "low"}})") !=
        std::string::npos);
  CHECK(out.find(R"("parameters":{"type":"object","properties":{"city":{"type":"string"}}})") != std::string::npos);
  CHECK(out.find(R"("stream_options":{"include_usage":true})") != std::string::npos);
  CHECK(out.find(R"("reasoning_content":"Need weather.")") != std::string::npos);
  CHECK(out.find(R"("prefix":true)") != std::string::npos);
  CHECK(out.find(R"("max_tokens":256)") != std::string::npos);

  // Decoding the encoded body gives the same request again (a fixed point).
  auto again = decode_chat_request(out);
  REQUIRE(again.has_value());
  CHECK(encode_chat_request(*again) == out);
  CHECK(again->extra == r->extra);
  CHECK(again->messages[2].extra == r->messages[2].extra);
}

TEST_CASE("OpenAI encode forces include_usage upstream and can drop reasoning", "[encode]") {
  auto r = decode_chat_request(
      R"({"model":"m","stream":true,"messages":[{"role":"assistant","content":"a","reasoning_content":"r"}]})");
  REQUIRE(r.has_value());
  CHECK_FALSE(r->include_usage);
  warden::api::openai::UpstreamOptions opts;
  std::string with = encode_chat_request(*r, opts);
  CHECK(with.find(R"("stream_options":{"include_usage":true})") != std::string::npos);
  CHECK(with.find("reasoning_content") != std::string::npos);
  opts.drop_reasoning = true;
  opts.force_include_usage = false;
  std::string without = encode_chat_request(*r, opts);
  CHECK(without.find("stream_options") == std::string::npos);
  CHECK(without.find("reasoning_content") == std::string::npos);
  CHECK(without == R"({"model":"m","messages":[{"role":"assistant","content":"a"}],"stream":true})");
}

TEST_CASE("OpenAI encode: an extra field named like a modelled one replaces it", "[encode]") {
  auto r = decode_chat_request(R"({"model":"m","messages":[{"role":"user","content":"hi"}],"thinking":{"type":"disabled"}})");
  REQUIRE(r.has_value());
  r->extra.emplace_back("thinking", R"({"type":"enabled"})");
  const std::string out = encode_chat_request(*r);
  CHECK(out.find(R"("thinking":{"type":"enabled"})") != std::string::npos);
  CHECK(out.find("disabled") == std::string::npos);
}

TEST_CASE("OpenAI decode rejects bad input with a 400 naming the parameter", "[decode]") {
  struct Case {
    const char* body;
    const char* code;
    const char* param;
  };
  const Case cases[] = {
      {"not json", "invalid_json", ""},
      {"{\"model\":\"m\",", "invalid_json", ""},
      {"[1,2]", "invalid_type", ""},
      {R"({"messages":[{"role":"user","content":"x"}]})", "missing_required_parameter", "model"},
      {R"({"model":"m"})", "missing_required_parameter", "messages"},
      {R"({"model":"m","messages":[]})", "invalid_value", "messages"},
      {R"({"model":7,"messages":[{"role":"user","content":"x"}]})", "invalid_type", "model"},
      {R"({"model":"m","messages":{"role":"user"}})", "invalid_type", "messages"},
      {R"({"model":"m","messages":["hi"]})", "invalid_type", "messages[0]"},
      {R"({"model":"m","messages":[{"content":"x"}]})", "missing_required_parameter", "messages[0].role"},
      {R"({"model":"m","messages":[{"role":"wizard","content":"x"}]})", "invalid_value", "messages[0].role"},
      {R"({"model":"m","messages":[{"role":"user","content":5}]})", "invalid_type", "messages[0].content"},
      {R"({"model":"m","messages":[{"role":"user"}]})", "missing_required_parameter", "messages[0].content"},
      {R"({"model":"m","messages":[{"role":"tool","content":"x"}]})", "missing_required_parameter",
       "messages[0].tool_call_id"},
      {R"({"model":"m","messages":[{"role":"user","content":[{"text":"x"}]}]})", "missing_required_parameter",
       "messages[0].content[0].type"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"temperature":"hot"})", "invalid_type",
       "temperature"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"temperature":3})", "invalid_value", "temperature"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":1.5})", "invalid_type", "max_tokens"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"stream":"yes"})", "invalid_type", "stream"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"stop":[1]})", "invalid_type", "stop"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function"}]})",
       "missing_required_parameter", "tools[0].function.name"},
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"stream_options":{"include_usage":1}})",
       "invalid_type", "stream_options.include_usage"},
      // Malformed JSON inside a field warden would only pass through is still caught here.
      {R"({"model":"m","messages":[{"role":"user","content":"x"}],"metadata":{"a":tru}})", "invalid_json", ""},
  };
  for (const auto& c : cases) {
    INFO(c.body);
    auto r = decode_chat_request(c.body);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().http_status == 400);
    CHECK(r.error().type == "invalid_request_error");
    CHECK(r.error().code == c.code);
    CHECK(r.error().param == c.param);
    CHECK_FALSE(r.error().message.empty());
  }
}

TEST_CASE("OpenAI decode: every end-user id spelling lands in `user`, nothing stays in extra", "[decode]") {
  for (const char* field : {"user", "user_id", "safety_identifier"}) {
    auto r = decode_chat_request(std::string(R"({"model":"m","messages":[{"role":"user","content":"hi"}],")") + field +
                                 R"(":"alice@corp.example","metadata":{"user_id":"alice"}})");
    REQUIRE(r.has_value());
    CHECK(r->user == "alice@corp.example");
    CHECK(r->extra.empty());
  }
  // Encoded under the field the provider asks for (DeepSeek: user_id), or not at all.
  auto r = decode_chat_request(R"({"model":"m","messages":[{"role":"user","content":"hi"}],"user":"u_hash"})");
  REQUIRE(r.has_value());
  UpstreamOptions deepseek;
  deepseek.user_field = "user_id";
  CHECK(encode_chat_request(*r, deepseek).find(R"("user_id":"u_hash")") != std::string::npos);
  CHECK(encode_chat_request(*r, deepseek).find(R"("user":)") == std::string::npos);
  UpstreamOptions none;
  none.user_field = "";
  CHECK(encode_chat_request(*r, none).find("u_hash") == std::string::npos);
}
