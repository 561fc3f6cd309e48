#include <catch2/catch.hpp>

#include "warden/router/params.hpp"
#include "warden/router/route.hpp"

using namespace warden;

namespace {

config::ModelTarget target(std::string provider, std::string model, int64_t weight = 1) {
  config::ModelTarget t;
  t.provider = std::move(provider);
  t.model = std::move(model);
  t.weight = weight;
  return t;
}

config::Config make_config() {
  config::Config c;
  for (auto [name, type] : {std::pair{"cloud", config::ProviderType::OpenAI},
                            std::pair{"claude", config::ProviderType::Anthropic},
                            std::pair{"local", config::ProviderType::Local}}) {
    config::ProviderConfig p;
    p.name = name;
    p.type = type;
    c.providers[name] = p;
  }
  auto add = [&](std::string alias, std::vector<config::ModelTarget> ts, std::vector<std::string> fb = {}) {
    config::ModelRoute r;
    r.alias = alias;
    r.targets = std::move(ts);
    r.fallback = std::move(fb);
    c.models[alias] = r;
  };
  add("fast", {target("cloud", "flash"), target("claude", "haiku", 0)}, {"local-r1"});
  add("reasoning", {target("cloud", "pro")}, {"fast"});
  add("local-r1", {target("local", "tiny-r1")});
  add("cheap", {target("cloud", "flash-lite")});
  add("loop-a", {target("cloud", "a")}, {"loop-b"});
  add("loop-b", {target("cloud", "b")}, {"loop-a"});
  return c;
}

policy::RequestContext request(std::string alias, std::string user_text = "hello") {
  policy::RequestContext ctx;
  ctx.request_id = "req-1";
  ctx.alias = alias;
  ctx.request.model = alias;
  api::Message m;
  m.role = "user";
  m.content.push_back(api::ContentPart{api::ContentPart::Type::Text, user_text, ""});
  ctx.request.messages.push_back(m);
  ctx.caller.key_id = "k1";
  ctx.caller.team = "platform";
  return ctx;
}

std::vector<std::string> labels(const router::RoutePlan& p) {
  std::vector<std::string> out;
  for (const auto& c : p.candidates) out.push_back(c.label());
  return out;
}

config::RoutingRule rule(std::string use) {
  config::RoutingRule r;
  r.use = std::move(use);
  return r;
}

}  // namespace

TEST_CASE("alias → targets then fallback chain, weight-0 targets after positive ones", "[router][route]") {
  auto cfg = make_config();
  auto plan = router::plan_route(cfg, request("reasoning"));
  REQUIRE(plan);
  CHECK(labels(*plan) == std::vector<std::string>{"cloud/pro", "cloud/flash", "claude/haiku", "local/tiny-r1"});
  CHECK(plan->candidates[1].alias == "fast");
}

TEST_CASE("fallback cycles terminate", "[router][route]") {
  auto cfg = make_config();
  auto plan = router::plan_route(cfg, request("loop-a"));
  REQUIRE(plan);
  CHECK(labels(*plan) == std::vector<std::string>{"cloud/a", "cloud/b"});
}

TEST_CASE("unknown alias → 404 model_not_found", "[router][route]") {
  auto cfg = make_config();
  auto plan = router::plan_route(cfg, request("nope"));
  REQUIRE_FALSE(plan);
  CHECK(plan.error().http_status == 404);
  CHECK(plan.error().code == "model_not_found");
}

TEST_CASE("rules: first match wins, on team / workload / data class", "[router][route]") {
  auto cfg = make_config();
  auto r1 = rule("cheap");
  r1.when.workload = "batch";
  auto r2 = rule("local-r1");
  r2.when.team = "platform";
  r2.when.model = "reasoning";
  cfg.routing.rules = {r1, r2};

  auto ctx = request("fast");
  ctx.workload = "batch";
  auto plan = router::plan_route(cfg, ctx);
  REQUIRE(plan);
  CHECK(plan->alias == "cheap");
  CHECK(plan->rule == 0);

  auto ctx2 = request("reasoning");
  ctx2.workload = "batch";  // rule 0 matches first
  CHECK(router::plan_route(cfg, ctx2)->alias == "cheap");
  ctx2.workload = "interactive";
  CHECK(router::plan_route(cfg, ctx2)->alias == "local-r1");
  ctx2.caller.team = "other";
  CHECK(router::plan_route(cfg, ctx2)->alias == "reasoning");
}

TEST_CASE("complexity rules: prompt size, tools, keywords", "[router][route]") {
  auto cfg = make_config();
  auto small = rule("cheap");
  small.when.model = "fast";
  small.when.max_prompt_tokens = 50;
  small.when.tools = false;
  auto hard = rule("reasoning");
  hard.when.keywords = {"Prove", "step by step"};
  cfg.routing.rules = {hard, small};

  CHECK(router::plan_route(cfg, request("fast", "hi there"))->alias == "cheap");
  CHECK(router::plan_route(cfg, request("fast", std::string(400, 'x')))->alias == "fast");  // ~100 tokens
  auto with_tools = request("fast", "hi");
  with_tools.request.tools.push_back(api::ToolDefinition{"get_weather", "", "{}", std::nullopt});
  CHECK(router::plan_route(cfg, with_tools)->alias == "fast");
  CHECK(router::plan_route(cfg, request("fast", "please PROVE that 2+2=4"))->alias == "reasoning");
  // keywords look at the last user turn only
  auto ctx = request("fast", "prove it");
  api::Message later;
  later.role = "user";
  later.content.push_back(api::ContentPart{api::ContentPart::Type::Text, "thanks", ""});
  ctx.request.messages.push_back(later);
  CHECK(router::plan_route(cfg, ctx)->alias == "cheap");
}

TEST_CASE("confidential data stays on local targets, fallback included", "[router][route]") {
  auto cfg = make_config();
  auto ctx = request("fast");
  ctx.data_class = "confidential";
  auto plan = router::plan_route(cfg, ctx);
  REQUIRE(plan);
  CHECK(plan->local_only);
  CHECK(labels(*plan) == std::vector<std::string>{"local/tiny-r1"});

  auto no_local = request("cheap");
  no_local.data_class = "confidential";
  auto refused = router::plan_route(cfg, no_local);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().http_status == 503);
  CHECK(refused.error().code == "no_eligible_target");

  ctx.data_class = "public";
  CHECK(router::plan_route(cfg, ctx)->candidates.size() == 3);
}

TEST_CASE("prompt token estimate", "[router][route]") {
  auto ctx = request("fast", std::string(400, 'a'));
  CHECK(router::estimate_prompt_tokens(ctx.request) == 100);
}

TEST_CASE("target params override the request", "[router][params]") {
  api::ChatRequest req;
  req.temperature = 0.2;
  req.extra.emplace_back("user_id", "\"u1\"");
  router::apply_params(req, R"({"thinking":{"type":"enabled"},"temperature":1,"user_id":"ops","custom":[1,2]})");
  CHECK(req.thinking_json == R"({"type":"enabled"})");
  REQUIRE(req.temperature);
  CHECK(*req.temperature == 1.0);
  REQUIRE(req.extra.size() == 2);
  CHECK(req.extra[0] == std::pair<std::string, std::string>{"user_id", "\"ops\""});
  CHECK(req.extra[1] == std::pair<std::string, std::string>{"custom", "[1,2]"});
}
