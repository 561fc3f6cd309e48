#pragma once
// Helpers for the policy unit tests: real configs through the real loader, a scratch
// state_dir, and a way to run a filter's coroutine to completion.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <catch2/catch.hpp>
#include <filesystem>
#include <random>
#include <string>

#include "warden/config/config.hpp"
#include "warden/policy/filter.hpp"
#include "warden/policy/request_context.hpp"

namespace policy_test {

inline std::string scratch_dir(const std::string& tag) {
  std::random_device rd;
  auto dir = std::filesystem::temp_directory_path() /
             ("warden-policy-" + tag + "-" + std::to_string(rd()) + std::to_string(rd()));
  std::filesystem::create_directories(dir);
  return dir.string();
}

inline std::shared_ptr<const warden::config::Config> load(const std::string& yaml,
                                                          std::map<std::string, std::string> env = {}) {
  auto result = warden::config::load_config_text(yaml, "test.yaml", [env](std::string_view name) -> std::optional<std::string> {
    auto it = env.find(std::string(name));
    if (it == env.end()) return std::nullopt;
    return it->second;
  });
  if (!result.ok()) {
    for (const auto& d : result.diagnostics) UNSCOPED_INFO(d.to_string());
  }
  REQUIRE(result.ok());
  return result.config;
}

inline warden::policy::FilterStatus run_request(warden::policy::Filter& f, warden::policy::RequestContext& ctx) {
  boost::asio::io_context io;
  auto fut = boost::asio::co_spawn(io, f.on_request(ctx), boost::asio::use_future);
  io.run();
  return fut.get();
}

inline warden::policy::RequestContext make_ctx(std::shared_ptr<const warden::config::Config> cfg,
                                               const std::string& key, const std::string& model) {
  warden::policy::RequestContext ctx;
  ctx.config = std::move(cfg);
  ctx.request_id = "req-test";
  if (!key.empty()) ctx.headers["authorization"] = "Bearer " + key;
  ctx.request.model = model;
  ctx.alias = model;
  warden::api::Message m;
  m.role = "user";
  warden::api::ContentPart p;
  p.text = "hello there";
  m.content.push_back(p);
  ctx.request.messages.push_back(m);
  return ctx;
}

// A config with two aliases, one team and the given extra YAML appended.
inline std::string base_yaml(const std::string& state_dir, const std::string& extra) {
  return "state_dir: " + state_dir + R"(
providers:
  up: {type: openai, base_url: http://127.0.0.1:9, api_key: x}
models:
  fast: {targets: [{provider: up, model: m-fast}]}
  smart: {targets: [{provider: up, model: m-smart}]}
)" + extra;
}

}  // namespace policy_test
