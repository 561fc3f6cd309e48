// The routing/models options the router adds, read from YAML by the real config loader.
#include <catch2/catch.hpp>

#include "warden/config/config.hpp"

using namespace warden;

TEST_CASE("routing options parse: complexity rules, local-only classes, retries, concurrency cap", "[router][config]") {
  auto r = config::load_config_text(R"(
providers:
  up: {type: openai, base_url: "http://127.0.0.1:9"}
models:
  fast:
    targets: [{provider: up, model: m1, weight: 90, max_concurrency: 8}, {provider: up, model: m2, weight: 10}]
  cheap: {targets: [{provider: up, model: m3}]}
routing:
  retries: {max_attempts: 4, base_ms: 50, max_ms: 800, retry_after_max_ms: 2000, deadline_ms: 15000}
  local_only_data_classes: [confidential, secret]
  rules:
    - when: {model: fast, max_prompt_tokens: 200, tools: false, keywords: [summarize, translate]}
      use: cheap
    - when: {min_prompt_tokens: 5000}
      use: fast
)", "routing.yaml", [](std::string_view) { return std::nullopt; });
  for (const auto& d : r.diagnostics) INFO(d.to_string());
  REQUIRE(r.ok());
  const auto& c = *r.config;
  CHECK(c.models.at("fast").targets[0].max_concurrency == 8);
  CHECK(c.models.at("fast").targets[1].max_concurrency == 0);
  CHECK(c.routing.retries.max_attempts == 4);
  CHECK(c.routing.retries.retry_after_max_ms == 2000);
  CHECK(c.routing.retries.deadline_ms == 15000);
  CHECK(c.routing.local_only_data_classes == std::vector<std::string>{"confidential", "secret"});
  REQUIRE(c.routing.rules.size() == 2);
  const auto& w = c.routing.rules[0].when;
  CHECK(w.max_prompt_tokens == std::optional<int64_t>(200));
  CHECK_FALSE(w.min_prompt_tokens);
  CHECK(w.tools == std::optional<bool>(false));
  CHECK(w.keywords == std::vector<std::string>{"summarize", "translate"});
  CHECK(c.routing.rules[1].when.min_prompt_tokens == std::optional<int64_t>(5000));
}

TEST_CASE("confidential is local-only by default", "[router][config]") {
  auto r = config::load_config_text("providers: {}\n", "empty.yaml", [](std::string_view) { return std::nullopt; });
  REQUIRE(r.ok());
  CHECK(r.config->routing.local_only_data_classes == std::vector<std::string>{"confidential"});
}

TEST_CASE("a misspelt routing option is reported with its line", "[router][config]") {
  auto r = config::load_config_text("routing:\n  retries: {max_attempt: 3}\n", "bad.yaml",
                                    [](std::string_view) { return std::nullopt; });
  REQUIRE_FALSE(r.ok());
  REQUIRE_FALSE(r.diagnostics.empty());
  CHECK(r.diagnostics[0].line == 2);
  CHECK(r.diagnostics[0].message.find("max_attempt") != std::string::npos);
}
