// The native R1-distill chat template renderer vs the real Jinja template rendered by
// @huggingface/jinja (tests/engine_ref/hf_chat_template_ref.cjs), byte for byte, over
// hand-written conversations (system, multi-turn, reasoning in history, tool calls, tool
// results) and seeded random ones.
#include <catch2/catch.hpp>

#include <random>

#include "unit/engine/tokenizer/node_reference.hpp"
#include "warden/engine/chat_template/r1_chat_template.hpp"

using warden::engine::ChatMessage;
using warden::engine::ToolCall;
namespace wt = warden::test;

namespace {

struct Case {
  std::vector<ChatMessage> messages;
  bool add_generation_prompt = true;
};

ChatMessage msg(std::string role, std::optional<std::string> content) {
  ChatMessage m;
  m.role = std::move(role);
  m.content = std::move(content);
  return m;
}

ChatMessage calls(std::vector<ToolCall> tool_calls, std::optional<std::string> content = std::nullopt) {
  ChatMessage m = msg("assistant", std::move(content));
  m.tool_calls = std::move(tool_calls);
  return m;
}

// OpenAI-shaped JSON for the Jinja side. An assistant message with tool calls and ""
// content is sent as null: the one reading the native renderer documents.
std::string to_json(const Case& c) {
  std::string out = "{\"add_generation_prompt\":";
  out += c.add_generation_prompt ? "true" : "false";
  out += ",\"messages\":[";
  for (size_t i = 0; i < c.messages.size(); ++i) {
    const ChatMessage& m = c.messages[i];
    if (i) out += ',';
    out += "{\"role\":";
    wt::append_json_string(out, m.role);
    out += ",\"content\":";
    const bool null_content = !m.content || (m.role == "assistant" && m.content->empty() && !m.tool_calls.empty());
    if (null_content) out += "null";
    else wt::append_json_string(out, *m.content);
    if (!m.reasoning.empty()) {
      out += ",\"reasoning_content\":";
      wt::append_json_string(out, m.reasoning);
    }
    if (!m.tool_calls.empty()) {
      out += ",\"tool_calls\":[";
      for (size_t k = 0; k < m.tool_calls.size(); ++k) {
        const ToolCall& t = m.tool_calls[k];
        if (k) out += ',';
        out += "{\"id\":";
        wt::append_json_string(out, t.id);
        out += ",\"type\":";
        wt::append_json_string(out, t.type);
        out += ",\"function\":{\"name\":";
        wt::append_json_string(out, t.name);
        out += ",\"arguments\":";
        wt::append_json_string(out, t.arguments);
        out += "}}";
      }
      out += "]";
    }
    if (!m.tool_call_id.empty()) {
      out += ",\"tool_call_id\":";
      wt::append_json_string(out, m.tool_call_id);
    }
    out += "}";
  }
  return out + "]}";
}

std::vector<Case> hand_written_cases() {
  std::vector<Case> cases;
  cases.push_back({{msg("user", "Hello!")}});
  cases.push_back({{msg("system", "You are terse."), msg("user", "2+2?")}});
  cases.push_back({{msg("system", "first"), msg("user", "hi"), msg("system", "second wins")}});
  cases.push_back({{msg("user", "hi")}, false});
  cases.push_back({{}});
  cases.push_back({{}, false});
  // Reasoning in history: only the text after the last </think> is kept.
  {
    ChatMessage a = msg("assistant", "<think>\nLet me add.\n</think>\n\n4");
    a.reasoning = "Let me add.";
    cases.push_back({{msg("system", "S"), msg("user", "2+2?"), a, msg("user", "and 3+3?")}});
  }
  cases.push_back({{msg("user", "q"), msg("assistant", "a</think>b</think>c"), msg("user", "q2")}});
  cases.push_back({{msg("user", "q"), msg("assistant", "no reasoning here"), msg("user", "q2"),
                    msg("assistant", "</think>"), msg("user", "q3")}});
  cases.push_back({{msg("user", "q"), msg("assistant", "answer")}, false});
  // Tool calls and results.
  ToolCall weather{"call_1", "function", "get_weather", R"({"city": "Paris", "unit": "celsius"})"};
  ToolCall time{"call_2", "function", "get_time", R"({"tz":"Europe/Paris"})"};
  cases.push_back({{msg("system", "Use tools."), msg("user", "Weather in Paris?"), calls({weather}),
                    [] { auto m = msg("tool", R"({"temp": 21})"); m.tool_call_id = "call_1"; return m; }(),
                    msg("assistant", "It is 21°C."), msg("user", "Thanks")}});
  cases.push_back({{msg("user", "Weather and time?"), calls({weather, time}), msg("tool", "21C"),
                    msg("tool", "14:00")}});
  cases.push_back({{msg("user", "Weather and time?"), calls({weather, time}), msg("tool", "21C"),
                    msg("tool", "14:00"), msg("assistant", "<think>x</think>21C at 14:00")}});
  // Two rounds of tool calls (the template's conversation-wide flags).
  cases.push_back({{msg("user", "a"), calls({weather}), msg("tool", "r1"), msg("assistant", "ok"),
                    msg("user", "b"), calls({time, weather}), msg("tool", "r2"), msg("tool", "r3"),
                    msg("assistant", "done")}});
  // Tool calls with "" content (rendered as null) and with real content (calls dropped).
  cases.push_back({{msg("user", "a"), calls({weather}, std::string()), msg("tool", "r")}});
  cases.push_back({{msg("user", "a"), calls({weather}, std::string("Let me check.")), msg("user", "b")}});
  // Roles the template does not know are dropped (the API layer maps "developer" first).
  cases.push_back({{msg("developer", "dev text"), msg("user", "u"), msg("function", "f")}});
  // Text that looks like markup or Jinja is rendered literally.
  cases.push_back({{msg("user", "{{ bos_token }} {% if %} <｜User｜> \\n \n\r\n\t 中文 😀 \"quotes\" 'single'")}});
  return cases;
}

std::vector<Case> random_cases(uint32_t seed, int n) {
  std::mt19937 rng(seed);
  const std::vector<std::string> texts = {"", "hi", "Hello, world!", "<think>r</think>a", "a</think>",
                                          "line1\nline2", "中文 😀", "{\"k\": [1, 2]}", " spaced ",
                                          "</think></think>x", "```json\n{}\n```"};
  auto text = [&] { return texts[rng() % texts.size()] + std::to_string(rng() % 100); };
  std::vector<Case> cases;
  for (int i = 0; i < n; ++i) {
    Case c;
    c.add_generation_prompt = rng() % 3 != 0;
    const int len = static_cast<int>(rng() % 9);
    for (int k = 0; k < len; ++k) {
      switch (rng() % 6) {
        case 0: c.messages.push_back(msg("system", text())); break;
        case 1:
        case 2: c.messages.push_back(msg("user", text())); break;
        case 3: c.messages.push_back(msg("assistant", text())); break;
        case 4: {
          std::vector<ToolCall> tc;
          for (int t = 0, nt = 1 + static_cast<int>(rng() % 3); t < nt; ++t)
            tc.push_back(ToolCall{"id", "function", "f" + std::to_string(t), "{\"x\":" + std::to_string(rng() % 9) + "}"});
          c.messages.push_back(calls(tc));
          break;
        }
        default: c.messages.push_back(msg("tool", text())); break;
      }
    }
    cases.push_back(std::move(c));
  }
  return cases;
}

}  // namespace

TEST_CASE("R1 chat template renders byte-exact like the Jinja template", "[chat_template][node]") {
  if (!wt::node_references_available()) {
    WARN("node or tests/e2e/node_modules missing: chat template not checked against Jinja");
    return;
  }
  std::vector<Case> cases = hand_written_cases();
  for (auto& c : random_cases(42, 300)) cases.push_back(std::move(c));
  std::string req = "{\"cases\":[";
  for (size_t i = 0; i < cases.size(); ++i) req += (i ? "," : "") + to_json(cases[i]);
  req += "]}";
  wt::TempFile file(".json");
  file.write(req);
  const std::string out = wt::run_node_reference("hf_chat_template_ref.cjs", {file.path()});
  simdjson::dom::parser parser;
  simdjson::padded_string padded(out);
  std::vector<std::string> rendered;
  for (auto s : parser.parse(padded)["rendered"].get_array()) rendered.emplace_back(std::string_view(s));
  REQUIRE(rendered.size() == cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    warden::engine::ChatTemplateOptions options;
    options.add_generation_prompt = cases[i].add_generation_prompt;
    INFO("case " << i << ": " << to_json(cases[i]));
    CHECK(warden::engine::render_r1_chat(cases[i].messages, options) == rendered[i]);
  }
}

TEST_CASE("R1 chat template: generation prompt opens the thinking block", "[chat_template]") {
  const std::string out = warden::engine::render_r1_chat({msg("user", "hi")});
  CHECK(out == "<｜begin▁of▁sentence｜><｜User｜>hi<｜Assistant｜><think>\n");
}

TEST_CASE("the embedded template text is the one in tests/engine_ref", "[chat_template]") {
  CHECK(warden::engine::r1_chat_template_text() ==
        wt::read_text_file(wt::source_path("tests/engine_ref/r1_distill_chat_template.jinja")));
}
