// Response cache: LRU store, key canonicalisation, and the filter's hit/miss/bypass
// decisions driven through its real on_request/on_event/on_complete.
#include <catch2/catch.hpp>

#include "policy_test_support.hpp"
#include "warden/api/openai/chat_decode.hpp"
#include "warden/policy/cache/cache_filter.hpp"
#include "warden/policy/cache/response_cache.hpp"

using namespace warden;
using namespace warden::policy;
using api::StreamEvent;

namespace {

std::shared_ptr<const cache::Answer> answer_with(const std::string& text) {
  auto a = std::make_shared<cache::Answer>();
  StreamEvent ev;
  ev.type = StreamEvent::Type::Content;
  ev.text = text;
  a->push_back(ev);
  return a;
}

api::ChatRequest decode(const std::string& body) {
  auto r = api::openai::decode_chat_request(body);
  REQUIRE(r);
  return std::move(r).value();
}

StreamEvent event(StreamEvent::Type t, std::string text = {}) {
  StreamEvent ev;
  ev.type = t;
  ev.text = std::move(text);
  return ev;
}

std::string header(const RequestContext& ctx, const std::string& name) {
  for (const auto& [k, v] : ctx.response_headers)
    if (k == name) return v;
  return {};
}

}  // namespace

TEST_CASE("cache store: get within ttl, expiry, LRU eviction per shard bound") {
  cache::ResponseCache store;
  auto t0 = cache::Clock::now();
  store.put("a", answer_with("A"), 100, t0);
  auto got = store.get("a", std::chrono::seconds(10), t0 + std::chrono::seconds(9));
  REQUIRE(got);
  CHECK((*got)[0].text == "A");
  CHECK_FALSE(store.get("a", std::chrono::seconds(10), t0 + std::chrono::seconds(10)));
  CHECK(store.size() == 0);  // the expired entry was dropped on lookup
  CHECK_FALSE(store.get("missing", std::chrono::seconds(10), t0));

  // max_entries 16 → one entry per shard: 1000 distinct keys leave at most 16.
  for (int i = 0; i < 1000; ++i) store.put("k" + std::to_string(i), answer_with("x"), 16, t0);
  CHECK(store.size() <= cache::ResponseCache::kShards);
  CHECK(store.size() > 0);
}

TEST_CASE("cache store: least recently used goes first within a shard") {
  cache::ResponseCache store;
  auto t0 = cache::Clock::now();
  // Find three keys that land in the same shard as "k0".
  std::vector<std::string> same;
  const auto target = std::hash<std::string>{}("k0") % cache::ResponseCache::kShards;
  for (int i = 0; same.size() < 3; ++i) {
    auto k = "k" + std::to_string(i);
    if (std::hash<std::string>{}(k) % cache::ResponseCache::kShards == target) same.push_back(k);
  }
  const int64_t max = 2 * cache::ResponseCache::kShards;  // two per shard
  store.put(same[0], answer_with("0"), max, t0);
  store.put(same[1], answer_with("1"), max, t0);
  REQUIRE(store.get(same[0], std::chrono::seconds(60), t0));  // touch 0: 1 is now the oldest
  store.put(same[2], answer_with("2"), max, t0);
  CHECK(store.get(same[0], std::chrono::seconds(60), t0));
  CHECK_FALSE(store.get(same[1], std::chrono::seconds(60), t0));
  CHECK(store.get(same[2], std::chrono::seconds(60), t0));
}

TEST_CASE("cache key: formatting, key order and stream flag do not matter; content, team, alias do") {
  auto a = decode(R"({"model":"fast","messages":[{"role":"user","content":"hi"}],"temperature":0})");
  auto b = decode(R"({ "temperature" : 0.0, "messages" : [ {"content":"hi", "role":"user"} ], "model":"fast", "stream":true,
                       "stream_options":{"include_usage":true}})");
  auto c = decode(R"({"model":"fast","messages":[{"role":"user","content":"hi!"}],"temperature":0})");
  CHECK(cache::cache_key(a, "t1", "fast") == cache::cache_key(b, "t1", "fast"));
  CHECK(cache::cache_key(a, "t1", "fast") != cache::cache_key(c, "t1", "fast"));
  CHECK(cache::cache_key(a, "t1", "fast") != cache::cache_key(a, "t2", "fast"));
  CHECK(cache::cache_key(a, "t1", "fast") != cache::cache_key(a, "t1", "smart"));
  CHECK(cache::cache_key(a, "t1", "fast").size() == 64);
}

TEST_CASE("cache aggregate: deltas merge, tool-call fragments join by index, errors refuse") {
  cache::Answer ans;
  StreamEvent start = event(StreamEvent::Type::Start);
  start.id = "upstream-id";
  start.model = "m-fast";
  REQUIRE(cache::aggregate_into(ans, start));
  REQUIRE(cache::aggregate_into(ans, event(StreamEvent::Type::Reasoning, "think ")));
  REQUIRE(cache::aggregate_into(ans, event(StreamEvent::Type::Reasoning, "more")));
  REQUIRE(cache::aggregate_into(ans, event(StreamEvent::Type::Content, "Hel")));
  REQUIRE(cache::aggregate_into(ans, event(StreamEvent::Type::Content, "lo")));
  StreamEvent t1 = event(StreamEvent::Type::ToolCall);
  t1.tool_call = {0, "call_1", "lookup", "{\"q\":"};
  StreamEvent t2 = event(StreamEvent::Type::ToolCall);
  t2.tool_call = {0, "", "", "\"x\"}"};
  REQUIRE(cache::aggregate_into(ans, t1));
  REQUIRE(cache::aggregate_into(ans, t2));
  StreamEvent fin = event(StreamEvent::Type::Finish);
  fin.finish_reason = "tool_calls";
  REQUIRE(cache::aggregate_into(ans, fin));
  REQUIRE(ans.size() == 5);
  CHECK(ans[0].id.empty());  // replays get a fresh id
  CHECK(ans[0].model == "m-fast");
  CHECK(ans[1].text == "think more");
  CHECK(ans[2].text == "Hello");
  CHECK(ans[3].tool_call.id == "call_1");
  CHECK(ans[3].tool_call.name == "lookup");
  CHECK(ans[3].tool_call.arguments == "{\"q\":\"x\"}");
  CHECK(ans[4].finish_reason == "tool_calls");

  CHECK_FALSE(cache::aggregate_into(ans, event(StreamEvent::Type::Error)));
  StreamEvent second = event(StreamEvent::Type::Content, "other choice");
  second.choice = 1;
  CHECK_FALSE(cache::aggregate_into(ans, second));
}

TEST_CASE("cache filter: miss records, success stores, identical request hits with zero usage") {
  auto dir = policy_test::scratch_dir("cache");
  auto cfg = policy_test::load(policy_test::base_yaml(dir, "cache: {enabled: true, ttl_s: 60, max_entries: 100}\n"));
  cache::ResponseCache store;

  auto ctx = policy_test::make_ctx(cfg, "", "fast");
  ctx.request.temperature = 0;
  ctx.caller.team = "t1";
  {
    CacheFilter f(store);
    REQUIRE(policy_test::run_request(f, ctx) == FilterStatus::Continue);
    CHECK(header(ctx, "x-warden-cache") == "miss");
    CHECK_FALSE(ctx.local_answer);
    auto c = event(StreamEvent::Type::Content, "cached text");
    f.on_event(ctx, c);
    auto fin = event(StreamEvent::Type::Finish);
    fin.finish_reason = "stop";
    f.on_event(ctx, fin);
    auto u = event(StreamEvent::Type::Usage);
    u.usage.present = true;
    u.usage.prompt_tokens = 11;
    u.usage.completion_tokens = 3;
    f.on_event(ctx, u);
    ctx.status = 200;
    f.on_complete(ctx);
  }
  CHECK(store.size() == 1);

  auto again = policy_test::make_ctx(cfg, "", "fast");
  again.request.temperature = 0;
  again.request.stream = true;  // stream and non-stream share the entry
  again.caller.team = "t1";
  CacheFilter f2(store);
  REQUIRE(policy_test::run_request(f2, again) == FilterStatus::Continue);
  CHECK(header(again, "x-warden-cache") == "hit");
  CHECK(again.decisions["cache.hit"] == 1);
  REQUIRE(again.local_answer);
  std::string text;
  bool zero_usage = false;
  for (const auto& ev : *again.local_answer) {
    if (ev.type == StreamEvent::Type::Content) text += ev.text;
    if (ev.type == StreamEvent::Type::Usage)
      zero_usage = ev.usage.present && ev.usage.prompt_tokens == 0 && ev.usage.completion_tokens == 0;
  }
  CHECK(text == "cached text");
  CHECK(zero_usage);

  // Another team does not see it.
  auto other = policy_test::make_ctx(cfg, "", "fast");
  other.request.temperature = 0;
  other.caller.team = "t2";
  CacheFilter f3(store);
  policy_test::run_request(f3, other);
  CHECK(header(other, "x-warden-cache") == "miss");
}

TEST_CASE("cache filter: failed, cut-short or blocked answers are not stored") {
  auto dir = policy_test::scratch_dir("cache");
  auto cfg = policy_test::load(policy_test::base_yaml(dir, "cache: {enabled: true}\n"));
  cache::ResponseCache store;
  auto run = [&](int status, bool finish, bool error, const char* decision) {
    auto ctx = policy_test::make_ctx(cfg, "", "fast");
    ctx.request.temperature = 0;
    CacheFilter f(store);
    policy_test::run_request(f, ctx);
    auto c = event(StreamEvent::Type::Content, "partial");
    f.on_event(ctx, c);
    if (error) {
      auto e = event(StreamEvent::Type::Error);
      f.on_event(ctx, e);
    }
    if (finish) {
      auto fin = event(StreamEvent::Type::Finish);
      fin.finish_reason = "stop";
      f.on_event(ctx, fin);
    }
    if (decision) ctx.decisions[decision] = 1;
    ctx.status = status;
    f.on_complete(ctx);
  };
  run(502, true, false, nullptr);
  run(200, false, false, nullptr);
  run(200, true, true, nullptr);
  run(200, true, false, "guardrails.blocked_output");
  CHECK(store.size() == 0);
  run(200, true, false, nullptr);
  CHECK(store.size() == 1);
}

TEST_CASE("cache filter: sampling, n>1, caller opt-out and DLP redaction bypass") {
  auto dir = policy_test::scratch_dir("cache");
  auto cfg = policy_test::load(policy_test::base_yaml(dir, "cache: {enabled: true}\n"));
  auto sampling_ok = policy_test::load(policy_test::base_yaml(dir, "cache: {enabled: true, allow_sampling: true}\n"));
  auto off = policy_test::load(policy_test::base_yaml(dir, "cache: {enabled: false}\n"));

  auto ctx = policy_test::make_ctx(cfg, "", "fast");
  CHECK(CacheFilter::bypass_reason(ctx) == "sampling");  // unset temperature = provider default 1.0
  ctx.request.temperature = 0.7;
  CHECK(CacheFilter::bypass_reason(ctx) == "sampling");
  ctx.request.temperature = 0;
  CHECK(CacheFilter::bypass_reason(ctx).empty());
  ctx.request.n = 2;
  CHECK(CacheFilter::bypass_reason(ctx) == "n");
  ctx.request.n.reset();
  ctx.headers["x-warden-cache"] = "bypass";
  CHECK(CacheFilter::bypass_reason(ctx) == "caller");
  ctx.headers.clear();
  ctx.decisions["dlp.email.redact"] = 1;
  CHECK(CacheFilter::bypass_reason(ctx) == "dlp");

  auto s = policy_test::make_ctx(sampling_ok, "", "fast");
  s.request.temperature = 0.9;
  CHECK(CacheFilter::bypass_reason(s).empty());

  auto o = policy_test::make_ctx(off, "", "fast");
  o.request.temperature = 0;
  CHECK(CacheFilter::bypass_reason(o) == "disabled");

  cache::ResponseCache store;
  auto hot = policy_test::make_ctx(cfg, "", "fast");
  hot.request.temperature = 1.0;
  CacheFilter f(store);
  policy_test::run_request(f, hot);
  CHECK(header(hot, "x-warden-cache") == "bypass");
}
