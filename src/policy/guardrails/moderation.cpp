#include "warden/policy/guardrails/moderation.hpp"

#include <simdjson.h>

#include <map>
#include <memory>
#include <mutex>

#include "warden/api/json_writer.hpp"
#include "warden/config/config.hpp"
#include "warden/providers/upstream/http_client.hpp"

namespace warden::policy {

namespace {

namespace upstream = providers::upstream;

// One pool per moderation base URL, kept for the process (a reload with the same URL reuses it).
std::shared_ptr<upstream::Pool> pool_for(const std::string& url, std::string* error) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<upstream::Pool>> pools;
  std::lock_guard lock(mu);
  if (auto it = pools.find(url); it != pools.end()) return it->second;
  auto base = upstream::parse_base_url(url, error);
  if (!base) return nullptr;
  auto pool = std::make_shared<upstream::Pool>(std::move(*base), upstream::PoolSettings{});
  pools.emplace(url, pool);
  return pool;
}

// `url` is the API base (http://host:port or …/v1); a full …/moderations URL is used as is.
std::string target_of(const std::string& prefix) {
  auto ends_with = [&](std::string_view s) {
    return prefix.size() >= s.size() && prefix.compare(prefix.size() - s.size(), s.size(), s) == 0;
  };
  if (ends_with("/moderations")) return prefix;
  if (ends_with("/v1")) return prefix + "/moderations";
  return prefix + "/v1/moderations";
}

}  // namespace

boost::asio::awaitable<ModerationResult> moderate(const config::Config& cfg, const std::vector<std::string>& texts) {
  const auto& g = cfg.guardrails;
  ModerationResult out;
  if (g.moderation_url.empty() || texts.empty()) co_return out;
  auto failed = [&](std::string why) {
    out.verdict = ModerationVerdict::Failed;
    out.why = std::move(why);
    return out;
  };
  std::string error;
  auto pool = pool_for(g.moderation_url, &error);
  if (!pool) co_return failed("bad moderation url: " + error);

  api::json::Writer w;
  w.begin_object().key("input").begin_array();
  for (const auto& t : texts) w.string(t);
  w.end_array().end_object();
  upstream::Request req;
  req.target = target_of(pool->url().prefix);
  req.body = w.take();
  req.headers.emplace_back("content-type", "application/json");
  if (!g.moderation_api_key.empty()) req.headers.emplace_back("authorization", "Bearer " + g.moderation_api_key);

  const auto deadline = upstream::Clock::now() + std::chrono::milliseconds(g.moderation_timeout_ms);
  auto sent = co_await pool->send(req, deadline, deadline);
  if (!sent.response) co_return failed(sent.error ? sent.error->message : "no response");
  std::string body;
  co_await sent.response->read_all(body, deadline, 4 << 20);
  if (sent.response->error()) co_return failed(sent.response->error()->message);
  if (sent.response->status() != 200)
    co_return failed("moderation answered HTTP " + std::to_string(sent.response->status()));

  simdjson::dom::parser parser;
  simdjson::dom::element root;
  simdjson::dom::array results;
  if (parser.parse(body).get(root) || root["results"].get_array().get(results) || results.size() == 0)
    co_return failed("moderation answer has no results");
  for (auto r : results) {
    bool flagged = false;
    if (r["flagged"].get_bool().get(flagged)) co_return failed("moderation result without 'flagged'");
    if (flagged) {
      out.verdict = ModerationVerdict::Flagged;
      co_return out;
    }
  }
  co_return out;
}

}  // namespace warden::policy
