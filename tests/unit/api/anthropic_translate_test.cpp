// Golden translation tests, Anthropic ⇄ canonical, both directions (wire-formats.md §3–4).
// Expected texts are written by hand from the Anthropic/OpenAI docs.
#include <catch2/catch.hpp>

#include "warden/api/anthropic/messages_decode.hpp"
#include "warden/api/anthropic/messages_encode.hpp"
#include "warden/api/anthropic/stream_decode.hpp"

using namespace warden;
using namespace warden::api;
using T = StreamEvent::Type;

namespace {

StreamEvent ev(T type, std::string text = "") {
  StreamEvent e;
  e.type = type;
  e.text = std::move(text);
  return e;
}
StreamEvent tool(int index, std::string id, std::string name, std::string args) {
  StreamEvent e;
  e.type = T::ToolCall;
  e.tool_call = ToolCallDelta{index, std::move(id), std::move(name), std::move(args)};
  return e;
}
StreamEvent finish(std::string reason) {
  StreamEvent e;
  e.type = T::Finish;
  e.finish_reason = std::move(reason);
  return e;
}
StreamEvent usage(int64_t prompt, int64_t completion, int64_t hit, int64_t write = 0) {
  StreamEvent e;
  e.type = T::Usage;
  e.usage.present = true;
  e.usage.prompt_tokens = prompt;
  e.usage.completion_tokens = completion;
  e.usage.cache_hit_tokens = hit;
  e.usage.cache_write_tokens = write;
  return e;
}
StreamEvent start(std::string id, std::string model) {
  StreamEvent e;
  e.type = T::Start;
  e.id = std::move(id);
  e.model = std::move(model);
  return e;
}

std::string sse(std::string_view name, std::string_view data) {
  return "event: " + std::string(name) + "\ndata: " + std::string(data) + "\n\n";
}

}  // namespace

TEST_CASE("Anthropic request → canonical: system, blocks, tools, tool results, thinking", "[anthropic][decode]") {
  const char* body = R"({
    "model": "enterprise-fast", "max_tokens": 1024, "stream": true,
    "system": [{"type":"text","text":"You are terse."},{"type":"text","text":"Answer in French."}],
    "metadata": {"user_id": "alice"},
    "stop_sequences": ["END"], "temperature": 0.5, "top_k": 40,
    "thinking": {"type":"enabled","budget_tokens":2048},
    "tools": [{"name":"get_weather","description":"Weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}}}}],
    "tool_choice": {"type":"any","disable_parallel_tool_use":true},
    "messages": [
      {"role":"user","content":[{"type":"text","text":"Weather in Paris and Rome?"},
        {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}}]},
      {"role":"assistant","content":[
        {"type":"thinking","thinking":"Two cities.","signature":"sig-abc"},
        {"type":"text","text":"Checking."},
        {"type":"tool_use","id":"toolu_01","name":"get_weather","input":{"city":"Paris"}},
        {"type":"tool_use","id":"toolu_02","name":"get_weather","input":{"city":"Rome"}}]},
      {"role":"user","content":[
        {"type":"tool_result","tool_use_id":"toolu_01","content":"18C"},
        {"type":"tool_result","tool_use_id":"toolu_02","content":[{"type":"text","text":"timeout"}],"is_error":true},
        {"type":"text","text":"And tomorrow?"}]}
    ]})";
  auto r = anthropic::decode_messages_request(body);
  REQUIRE(r);
  const ChatRequest& req = *r;
  CHECK(req.model == "enterprise-fast");
  CHECK(req.max_tokens == 1024);
  CHECK(req.stream);
  CHECK(req.user == "alice");
  CHECK(req.stop == std::vector<std::string>{"END"});
  CHECK(req.temperature == 0.5);
  CHECK(req.top_k == 40);
  CHECK(req.thinking_json == R"({"type":"enabled","budget_tokens":2048})");
  REQUIRE(req.tools.size() == 1);
  CHECK(req.tools[0].parameters_json == R"({"type":"object","properties":{"city":{"type":"string"}}})");
  CHECK(req.tool_choice_json == R"("required")");
  CHECK(req.parallel_tool_calls == false);

  REQUIRE(req.messages.size() == 6);
  CHECK(req.messages[0].role == "system");
  REQUIRE(req.messages[0].content.size() == 2);
  CHECK(req.messages[0].content[1].text == "Answer in French.");

  const auto& u = req.messages[1];
  CHECK(u.role == "user");
  REQUIRE(u.content.size() == 2);
  CHECK(u.content[1].type == ContentPart::Type::Image);
  CHECK(u.content[1].raw_json == R"({"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}})");

  const auto& a = req.messages[2];
  CHECK(a.role == "assistant");
  CHECK(a.reasoning_content == std::optional<std::string>("Two cities."));
  CHECK(a.reasoning_signature == "sig-abc");
  REQUIRE(a.tool_calls.size() == 2);
  CHECK(a.tool_calls[1].id == "toolu_02");
  CHECK(a.tool_calls[1].arguments == R"({"city":"Rome"})");

  CHECK(req.messages[3].role == "tool");
  CHECK(req.messages[3].tool_call_id == "toolu_01");
  CHECK(req.messages[3].content[0].text == "18C");
  CHECK_FALSE(req.messages[3].tool_error);
  CHECK(req.messages[4].tool_call_id == "toolu_02");
  CHECK(req.messages[4].content[0].text == "timeout");
  CHECK(req.messages[4].tool_error);
  CHECK(req.messages[5].role == "user");
  CHECK(req.messages[5].content[0].text == "And tomorrow?");
}

TEST_CASE("Anthropic request validation", "[anthropic][decode]") {
  auto no_max = anthropic::decode_messages_request(R"({"model":"m","messages":[]})");
  REQUIRE_FALSE(no_max);
  CHECK(no_max.error().http_status == 400);
  CHECK(no_max.error().message.find("max_tokens") != std::string::npos);
  CHECK(anthropic::decode_messages_request(R"({"model":"m","messages":[]})", false));
  CHECK_FALSE(anthropic::decode_messages_request("not json"));
  CHECK_FALSE(anthropic::decode_messages_request(R"({"model":"m","max_tokens":5,"messages":[{"role":"system","content":"x"}]})"));
  auto tool_choice = anthropic::decode_messages_request(
      R"({"model":"m","max_tokens":5,"messages":[],"tool_choice":{"type":"tool","name":"f"}})");
  REQUIRE(tool_choice);
  CHECK(tool_choice->tool_choice_json == R"({"type":"function","function":{"name":"f"}})");
}

TEST_CASE("stop_reason ⇄ finish_reason table", "[anthropic]") {
  using anthropic::finish_reason_for;
  using anthropic::stop_reason_for;
  CHECK(finish_reason_for("end_turn") == "stop");
  CHECK(finish_reason_for("stop_sequence") == "stop");
  CHECK(finish_reason_for("pause_turn") == "stop");
  CHECK(finish_reason_for("max_tokens") == "length");
  CHECK(finish_reason_for("model_context_window_exceeded") == "length");
  CHECK(finish_reason_for("tool_use") == "tool_calls");
  CHECK(finish_reason_for("refusal") == "content_filter");
  CHECK(stop_reason_for("stop") == "end_turn");
  CHECK(stop_reason_for("length") == "max_tokens");
  CHECK(stop_reason_for("tool_calls") == "tool_use");
  CHECK(stop_reason_for("content_filter") == "refusal");
}

TEST_CASE("canonical events → Anthropic SSE: exact sequence, indices, parallel tools, usage", "[anthropic][encode]") {
  anthropic::EventEncoder enc("enterprise-fast");
  std::string out;
  out += enc.encode(start("msg_up1", "deepseek-v4-flash"));
  out += enc.encode(ev(T::KeepAlive));
  out += enc.encode(ev(T::Reasoning, "Hmm"));
  out += enc.encode(ev(T::Reasoning, "."));
  out += enc.encode(ev(T::Content, "Hi"));
  out += enc.encode(tool(0, "call_a", "get_weather", ""));
  out += enc.encode(tool(0, "", "", "{\"city\":"));
  out += enc.encode(tool(0, "", "", "\"Paris\"}"));
  out += enc.encode(tool(1, "call_b", "get_time", "{\"tz\":\"CET\"}"));  // name and args in one chunk
  out += enc.encode(finish("tool_calls"));
  out += enc.encode(usage(100, 50, 64));
  out += enc.end(nullptr);

  std::string expected =
      sse("message_start",
          R"({"type":"message_start","message":{"id":"msg_up1","type":"message","role":"assistant","model":"deepseek-v4-flash","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":0}}})") +
      sse("ping", R"({"type":"ping"})") +
      sse("content_block_start", R"({"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}})") +
      sse("content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Hmm"}})") +
      sse("content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"."}})") +
      sse("content_block_stop", R"({"type":"content_block_stop","index":0})") +
      sse("content_block_start", R"({"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}})") +
      sse("content_block_delta", R"({"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Hi"}})") +
      sse("content_block_stop", R"({"type":"content_block_stop","index":1})") +
      sse("content_block_start", R"({"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"call_a","name":"get_weather","input":{}}})") +
      sse("content_block_delta", R"({"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"city\":"}})") +
      sse("content_block_delta", R"({"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"\"Paris\"}"}})") +
      sse("content_block_stop", R"({"type":"content_block_stop","index":2})") +
      sse("content_block_start", R"({"type":"content_block_start","index":3,"content_block":{"type":"tool_use","id":"call_b","name":"get_time","input":{}}})") +
      sse("content_block_delta", R"({"type":"content_block_delta","index":3,"delta":{"type":"input_json_delta","partial_json":"{\"tz\":\"CET\"}"}})") +
      sse("content_block_stop", R"({"type":"content_block_stop","index":3})") +
      sse("message_delta", R"({"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"input_tokens":36,"cache_creation_input_tokens":0,"cache_read_input_tokens":64,"output_tokens":50}})") +
      sse("message_stop", R"({"type":"message_stop"})");
  CHECK(out == expected);
}

TEST_CASE("a stream that ends without finish or usage still ends with message_delta + message_stop", "[anthropic][encode]") {
  anthropic::EventEncoder enc("alias-x");
  std::string out = enc.encode(ev(T::Content, "partial"));
  out += enc.end(nullptr);
  CHECK(out.find("event: message_start") == 0);
  CHECK(out.find(R"("model":"alias-x")") != std::string::npos);
  CHECK(out.find(R"({"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null})") != std::string::npos);
  const std::string stop = sse("message_stop", R"({"type":"message_stop"})");
  REQUIRE(out.size() >= stop.size());
  CHECK(out.substr(out.size() - stop.size()) == stop);
}

TEST_CASE("a mid-stream failure sends an error event, closing the open block first", "[anthropic][encode]") {
  anthropic::EventEncoder enc("m");
  std::string out = enc.encode(ev(T::Content, "Hel"));
  Error err{529, "upstream_error", "Overloaded", "", ""};
  out += enc.end(&err);
  auto stop = out.find(R"({"type":"content_block_stop","index":0})");
  auto error = out.find(sse("error", R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"));
  REQUIRE(stop != std::string::npos);
  REQUIRE(error != std::string::npos);
  CHECK(stop < error);
  CHECK(out.find("event: message_stop") > error);
}

TEST_CASE("signatures ride thinking blocks (Anthropic upstream → Anthropic caller)", "[anthropic][encode]") {
  anthropic::EventEncoder enc("m");
  StreamEvent sig;
  sig.type = T::Reasoning;
  sig.signature = "EqQBCgIYAhIM";
  std::string out = enc.encode(ev(T::Reasoning, "think"));
  out += enc.encode(sig);
  out += enc.encode(ev(T::Content, "ok"));
  CHECK(out.find(sse("content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBCgIYAhIM"}})")) != std::string::npos);
}

TEST_CASE("canonical events → aggregated Anthropic message", "[anthropic][encode]") {
  anthropic::MessageAggregator agg("alias");
  agg.add(start("up-1", "deepseek-v4-pro"));
  agg.add(ev(T::Reasoning, "Let me "));
  agg.add(ev(T::Reasoning, "see."));
  agg.add(ev(T::Content, "Sure."));
  agg.add(tool(0, "call_1", "lookup", "{\"q\":"));
  agg.add(tool(1, "call_2", "lookup", "{\"q\":\"b\"}"));
  agg.add(tool(0, "", "", "\"a\"}"));  // interleaved fragments still land in their own block
  agg.add(finish("tool_calls"));
  agg.add(usage(120, 30, 100, 0));
  CHECK(agg.body() ==
        R"({"id":"msg_up-1","type":"message","role":"assistant","model":"deepseek-v4-pro","content":[)"
        R"({"type":"thinking","thinking":"Let me see.","signature":""},{"type":"text","text":"Sure."},)"
        R"({"type":"tool_use","id":"call_1","name":"lookup","input":{"q":"a"}},)"
        R"({"type":"tool_use","id":"call_2","name":"lookup","input":{"q":"b"}}],)"
        R"("stop_reason":"tool_use","stop_sequence":null,)"
        R"("usage":{"input_tokens":20,"cache_creation_input_tokens":0,"cache_read_input_tokens":100,"output_tokens":30}})");
}

TEST_CASE("canonical (OpenAI-shaped) request → Anthropic upstream body", "[anthropic][encode]") {
  ChatRequest req;
  req.model = "deepseek-v4-pro";
  req.stream = true;
  req.temperature = 1.5;  // OpenAI range; Anthropic's tops out at 1
  req.stop = {"###"};
  req.user = "u_hashed";
  req.tool_choice_json = R"({"type":"function","function":{"name":"lookup"}})";
  req.tools.push_back(ToolDefinition{"lookup", "Find", R"({"type":"object"})", std::nullopt});
  auto msg = [](std::string role, std::string text) {
    Message m;
    m.role = std::move(role);
    if (!text.empty()) m.content.push_back(ContentPart{ContentPart::Type::Text, std::move(text), ""});
    return m;
  };
  req.messages.push_back(msg("system", "Be brief."));
  Message u = msg("user", "Look up a");
  u.content_is_array = true;
  u.content.push_back(ContentPart{ContentPart::Type::Image, "", R"({"type":"image_url","image_url":{"url":"https://x.test/a.png"}})"});
  req.messages.push_back(u);
  Message a = msg("assistant", "");
  a.content_null = true;
  a.reasoning_content = "need lookup";
  a.reasoning_signature = "sig1";
  a.tool_calls.push_back(ToolCall{"toolu_1", "lookup", R"({"q":"a"})"});
  a.tool_calls.push_back(ToolCall{"toolu_2", "lookup", ""});
  req.messages.push_back(a);
  Message t1 = msg("tool", "found");
  t1.tool_call_id = "toolu_1";
  Message t2 = msg("tool", "boom");
  t2.tool_call_id = "toolu_2";
  t2.tool_error = true;
  req.messages.push_back(t1);
  req.messages.push_back(t2);
  req.messages.push_back(msg("user", "thanks"));

  CHECK(anthropic::encode_messages_request(req) ==
        R"({"model":"deepseek-v4-pro","max_tokens":4096,"system":[{"type":"text","text":"Be brief."}],"messages":[)"
        R"({"role":"user","content":[{"type":"text","text":"Look up a"},{"type":"image","source":{"type":"url","url":"https://x.test/a.png"}}]},)"
        R"({"role":"assistant","content":[{"type":"thinking","thinking":"need lookup","signature":"sig1"},)"
        R"({"type":"tool_use","id":"toolu_1","name":"lookup","input":{"q":"a"}},{"type":"tool_use","id":"toolu_2","name":"lookup","input":{}}]},)"
        R"({"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"found"},)"
        R"({"type":"tool_result","tool_use_id":"toolu_2","content":"boom","is_error":true},{"type":"text","text":"thanks"}]}],)"
        R"("tools":[{"name":"lookup","description":"Find","input_schema":{"type":"object"}}],)"
        R"("tool_choice":{"type":"tool","name":"lookup"},"stop_sequences":["###"],"temperature":1,)"
        R"("metadata":{"user_id":"u_hashed"},"stream":true})");
}

TEST_CASE("Anthropic SSE → canonical events (outbound provider)", "[anthropic][stream_decode]") {
  anthropic::StreamDecoder d;
  std::vector<StreamEvent> evs;
  auto feed = [&](const char* name, const char* data) {
    for (auto& e : d.feed(name, data)) evs.push_back(e);
  };
  feed("message_start", R"({"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[],"usage":{"input_tokens":10,"cache_read_input_tokens":20,"cache_creation_input_tokens":5,"output_tokens":1}}})");
  feed("content_block_start", R"({"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}})");
  feed("content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"hm"}})");
  feed("content_block_delta", R"({"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"SIG"}})");
  feed("content_block_stop", R"({"type":"content_block_stop","index":0})");
  feed("ping", R"({"type":"ping"})");
  feed("content_block_start", R"({"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_9","name":"f","input":{}}})");
  feed("content_block_delta", R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"a\":1}"}})");
  feed("content_block_stop", R"({"type":"content_block_stop","index":1})");
  feed("message_delta", R"({"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":42}})");
  CHECK_FALSE(d.done());
  feed("message_stop", R"({"type":"message_stop"})");
  CHECK(d.done());

  REQUIRE(evs.size() == 8);
  CHECK(evs[0].type == T::Start);
  CHECK(evs[0].model == "claude-x");
  CHECK(evs[1].type == T::Reasoning);
  CHECK(evs[1].text == "hm");
  CHECK(evs[2].signature == "SIG");
  CHECK(evs[3].type == T::KeepAlive);
  CHECK(evs[4].type == T::ToolCall);
  CHECK(evs[4].tool_call.index == 0);  // first tool → OpenAI tool index 0, whatever its block index
  CHECK(evs[4].tool_call.id == "toolu_9");
  CHECK(evs[5].tool_call.arguments == R"({"a":1})");
  CHECK(evs[5].tool_call.index == 0);
  CHECK(evs[6].type == T::Finish);
  CHECK(evs[6].finish_reason == "tool_calls");
  CHECK(evs[7].type == T::Usage);
  CHECK(evs[7].usage.prompt_tokens == 35);  // 10 + 20 read + 5 written
  CHECK(evs[7].usage.cache_hit_tokens == 20);
  CHECK(evs[7].usage.cache_write_tokens == 5);
  CHECK(evs[7].usage.completion_tokens == 42);
}

TEST_CASE("usage round trip does not double-bill cache tokens", "[anthropic]") {
  // Anthropic in: input excludes cache; canonical prompt includes it; Anthropic out again.
  Usage u = anthropic::usage_from_anthropic(10, 7, 20, 5);
  anthropic::MessageAggregator agg("m");
  StreamEvent e;
  e.type = T::Usage;
  e.usage = u;
  agg.add(e);
  CHECK(agg.body().find(R"("usage":{"input_tokens":10,"cache_creation_input_tokens":5,"cache_read_input_tokens":20,"output_tokens":7})") != std::string::npos);
}

TEST_CASE("non-stream Anthropic message → canonical events", "[anthropic][stream_decode]") {
  bool ok = false;
  auto evs = anthropic::decode_message_response(
      R"({"id":"msg_2","type":"message","role":"assistant","model":"m","content":[{"type":"thinking","thinking":"t","signature":"s"},{"type":"text","text":"hi"},{"type":"tool_use","id":"toolu_1","name":"f","input":{"x":true}}],"stop_reason":"max_tokens","stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":52,"cache_creation_input_tokens":0,"cache_read_input_tokens":4}})",
      &ok);
  REQUIRE(ok);
  REQUIRE(evs.size() == 6);
  CHECK(evs[1].signature == "s");
  CHECK(evs[2].text == "hi");
  CHECK(evs[3].tool_call.arguments == R"({"x":true})");
  CHECK(evs[4].finish_reason == "length");
  CHECK(evs[5].usage.prompt_tokens == 7);
  CHECK(evs[5].usage.completion_tokens == 52);
}
