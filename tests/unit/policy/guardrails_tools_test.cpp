#include "policy_test_support.hpp"
#include "warden/policy/guardrails/guardrails_filter.hpp"
#include "warden/policy/limits/limits_filter.hpp"
#include "warden/policy/tools/tools_filter.hpp"

using namespace warden;
using namespace policy_test;

namespace {

policy::RequestContext team_ctx(std::shared_ptr<const config::Config> cfg, const std::string& team,
                                const std::string& model = "fast") {
  auto ctx = make_ctx(cfg, "", model);
  ctx.caller.team = team;
  ctx.caller.key_id = "k";
  return ctx;
}

api::ToolDefinition tool(const std::string& name) {
  api::ToolDefinition t;
  t.name = name;
  t.parameters_json = "{\"type\":\"object\"}";
  return t;
}

}  // namespace

TEST_CASE("guardrails: global, per-model and per-team kill switches answer 503 model_disabled", "[guardrails]") {
  auto dir = scratch_dir("g");
  {
    auto cfg = load(base_yaml(dir, "guardrails: {kill_switch: true}\nteams:\n  t: {}\n"));
    policy::GuardrailsFilter f;
    auto ctx = team_ctx(cfg, "t");
    REQUIRE(run_request(f, ctx) == policy::FilterStatus::Reply);
    CHECK(ctx.reply->http_status == 503);
    CHECK(ctx.reply->code == "model_disabled");
  }
  {
    auto cfg = load(base_yaml(dir, "guardrails: {disabled_models: [smart]}\nteams:\n  t: {}\n  off: {guardrails: {disabled: true}}\n"));
    policy::GuardrailsFilter a, b, c;
    auto fast = team_ctx(cfg, "t", "fast");
    CHECK(run_request(a, fast) == policy::FilterStatus::Continue);
    auto smart = team_ctx(cfg, "t", "smart");
    CHECK(run_request(b, smart) == policy::FilterStatus::Reply);
    auto off = team_ctx(cfg, "off", "fast");
    CHECK(run_request(c, off) == policy::FilterStatus::Reply);
    CHECK(off.reply->code == "model_disabled");
  }
}

TEST_CASE("guardrails: blocked terms and regex on input and output", "[guardrails]") {
  auto dir = scratch_dir("g");
  auto cfg = load(base_yaml(dir, R"(
guardrails:
  blocked_terms: ["Project Nightingale"]
  blocked_regex: ['ACME-[0-9]{4}']
teams:
  t: {guardrails: {blocked_terms: [internal-only]}}
  u: {}
)"));
  policy::GuardrailsFilter f;
  auto ctx = team_ctx(cfg, "t");
  ctx.request.messages[0].content[0].text = "tell me about project nightingale please";
  REQUIRE(run_request(f, ctx) == policy::FilterStatus::Reply);
  CHECK(ctx.reply->code == "content_blocked");
  CHECK(ctx.reply->message.find("ightingale") == std::string::npos);

  policy::GuardrailsFilter g;
  auto c2 = team_ctx(cfg, "u");
  c2.request.messages[0].content[0].text = "this is internal-only for team t, not u";
  CHECK(run_request(g, c2) == policy::FilterStatus::Continue);

  // Output: a term split across chunks stops the answer.
  policy::GuardrailsFilter h;
  auto c3 = team_ctx(cfg, "u");
  REQUIRE(run_request(h, c3) == policy::FilterStatus::Continue);
  api::StreamEvent e1;
  e1.type = api::StreamEvent::Type::Content;
  e1.text = "the code is ACME-12";
  h.on_event(c3, e1);
  CHECK(e1.type == api::StreamEvent::Type::Content);
  api::StreamEvent e2;
  e2.type = api::StreamEvent::Type::Content;
  e2.text = "34 ok";
  h.on_event(c3, e2);
  CHECK(e2.type == api::StreamEvent::Type::Error);
  CHECK(e2.error.code == "content_blocked");
}

TEST_CASE("tools: allowlist rejects or strips declared tools; calls in the answer are blocked", "[tools]") {
  auto dir = scratch_dir("tools");
  auto cfg = load(base_yaml(dir, R"(
teams:
  strict: {tools: {allow: [get_weather, search_docs]}}
  lenient: {tools: {allow: [get_weather], on_violation: strip}}
  denied: {tools: {deny: [shell]}}
)"));
  {
    policy::ToolsFilter f;
    auto ctx = team_ctx(cfg, "strict");
    ctx.request.tools = {tool("get_weather"), tool("shell")};
    REQUIRE(run_request(f, ctx) == policy::FilterStatus::Reply);
    CHECK(ctx.reply->http_status == 400);
    CHECK(ctx.reply->code == "tool_not_allowed");
    CHECK(ctx.reply->message.find("shell") != std::string::npos);
  }
  {
    policy::ToolsFilter f;
    auto ctx = team_ctx(cfg, "lenient");
    ctx.request.tools = {tool("get_weather"), tool("shell")};
    ctx.request.tool_choice_json = R"({"type":"function","function":{"name":"shell"}})";
    REQUIRE(run_request(f, ctx) == policy::FilterStatus::Continue);
    REQUIRE(ctx.request.tools.size() == 1);
    CHECK(ctx.request.tools[0].name == "get_weather");
    CHECK(ctx.request.tool_choice_json.empty());

    // The model calls a tool that is not allowed: the answer stops.
    api::StreamEvent ok;
    ok.type = api::StreamEvent::Type::ToolCall;
    ok.tool_call.name = "get_weather";
    ok.tool_call.arguments = "{}";
    f.on_event(ctx, ok);
    CHECK(ok.type == api::StreamEvent::Type::ToolCall);
    api::StreamEvent bad;
    bad.type = api::StreamEvent::Type::ToolCall;
    bad.tool_call.index = 1;
    bad.tool_call.name = "shell";
    f.on_event(ctx, bad);
    CHECK(bad.type == api::StreamEvent::Type::Error);
    CHECK(bad.error.code == "tool_not_allowed");
  }
  {
    policy::ToolsFilter f;
    auto ctx = team_ctx(cfg, "denied");
    ctx.request.tools = {tool("anything"), tool("shell")};
    REQUIRE(run_request(f, ctx) == policy::FilterStatus::Reply);
  }
}

TEST_CASE("limits: max_tokens clamp or reject, prompt size limit", "[limits]") {
  auto dir = scratch_dir("limits");
  auto cfg = load(base_yaml(dir, R"(
teams:
  clamp: {max_tokens: 100}
  reject: {max_tokens: 100, max_tokens_mode: reject}
  small: {max_prompt_tokens: 20}
)"));
  {
    policy::LimitsFilter f;
    auto ctx = team_ctx(cfg, "clamp");
    ctx.request.max_tokens = 5000;
    REQUIRE(run_request(f, ctx) == policy::FilterStatus::Continue);
    CHECK(*ctx.request.max_tokens == 100);
  }
  {
    policy::LimitsFilter f;
    auto ctx = team_ctx(cfg, "reject");
    ctx.request.max_tokens = 5000;
    REQUIRE(run_request(f, ctx) == policy::FilterStatus::Reply);
    CHECK(ctx.reply->code == "max_tokens_exceeded");
    policy::LimitsFilter g;
    auto ok = team_ctx(cfg, "reject");
    ok.request.max_tokens = 50;
    CHECK(run_request(g, ok) == policy::FilterStatus::Continue);
  }
  {
    policy::LimitsFilter f;
    auto ctx = team_ctx(cfg, "small");
    ctx.request.messages[0].content[0].text = std::string(400, 'a');
    REQUIRE(run_request(f, ctx) == policy::FilterStatus::Reply);
    CHECK(ctx.reply->code == "prompt_too_large");
  }
}
