// Issue 14: every policy component refuses when it cannot decide (its own error), and the
// normalised view DLP and guardrails scan. The configs here are built by the real loader
// and then altered in ways validation would refuse, to stand for what can still fail at
// run time (a pattern the engine rejects, a store that will not open, a tokenizer file
// that broke after load).
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "policy_test_support.hpp"
#include "warden/policy/auth/auth_filter.hpp"
#include "warden/policy/budget/budget_filter.hpp"
#include "warden/policy/dlp/dlp_engine.hpp"
#include "warden/policy/dlp/dlp_filter.hpp"
#include "warden/policy/guardrails/guardrails_filter.hpp"
#include "warden/policy/limits/limits_filter.hpp"
#include "warden/policy/normalize.hpp"

using namespace warden;
using namespace policy_test;

namespace {

std::shared_ptr<config::Config> mutable_copy(const std::shared_ptr<const config::Config>& cfg) {
  return std::make_shared<config::Config>(*cfg);
}

policy::RequestContext team_ctx(std::shared_ptr<const config::Config> cfg, const std::string& text = "hello there") {
  auto ctx = make_ctx(std::move(cfg), "", "fast");
  ctx.caller = policy::Caller{"k", "t", {}};
  ctx.request.messages[0].content[0].text = text;
  return ctx;
}

}  // namespace

TEST_CASE("fail closed: guardrails whose rules do not compile refuse every request", "[fail_closed]") {
  auto dir = scratch_dir("fc-guard");
  auto cfg = mutable_copy(load(base_yaml(dir, "teams: {t: {}}\nguardrails: {blocked_terms: [zeus]}\n")));
  cfg->guardrails.blocked_regex = {"(unclosed"};  // what validation refuses; here it reached run time
  auto ctx = team_ctx(cfg, "nothing blocked here");
  policy::GuardrailsFilter f;
  REQUIRE(run_request(f, ctx) == policy::FilterStatus::Reply);
  CHECK(ctx.reply->http_status == 503);
  CHECK(ctx.reply->code == "guardrails_unavailable");
}

TEST_CASE("fail closed: a DLP engine that does not compile refuses the teams that use DLP", "[fail_closed]") {
  auto dir = scratch_dir("fc-dlp");
  auto cfg = mutable_copy(load(base_yaml(dir, "teams: {t: {dlp: {email: redact}}}\n")));
  config::CustomDetector bad;
  bad.name = "broken";
  bad.regex = "(a|";
  bad.action = "redact";
  cfg->dlp.custom.push_back(bad);
  try {
    policy::DlpEngine engine(cfg->dlp.custom);
    FAIL("the engine compiled an invalid pattern");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find("'broken'") != std::string::npos);  // names the right detector
  }
  auto ctx = team_ctx(cfg);
  policy::DlpFilter f;
  REQUIRE(run_request(f, ctx) == policy::FilterStatus::Reply);
  CHECK(ctx.reply->http_status == 503);
  CHECK(ctx.reply->code == "dlp_unavailable");
}

TEST_CASE("fail closed: the key store and budget ledger unavailable", "[fail_closed]") {
  auto dir = scratch_dir("fc-store");
  // warden.db is a directory: SQLite cannot open it.
  std::filesystem::create_directories(std::filesystem::path(dir) / "warden.db");
  auto cfg = load(base_yaml(dir, "teams: {t: {budget: {tokens_per_day: 1000, mode: hard}}}\n"
                                 "keys: [{id: k, team: t, key: sk-config-key-1}]\n"));
  // A virtual key cannot be checked: refused, never accepted.
  auto vk = make_ctx(cfg, "wk-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "fast");
  policy::AuthFilter auth;
  REQUIRE(run_request(auth, vk) == policy::FilterStatus::Reply);
  CHECK(vk.reply->http_status == 401);
  // A hard budget cannot be bounded without its ledger: refused.
  auto ctx = team_ctx(cfg);
  policy::BudgetFilter budget;
  REQUIRE(run_request(budget, ctx) == policy::FilterStatus::Reply);
  CHECK(ctx.reply->http_status == 503);
  CHECK(ctx.reply->code == "budget_unavailable");
}

TEST_CASE("fail closed: a configured tokenizer that no longer loads refuses budgets and limits", "[fail_closed]") {
  auto dir = scratch_dir("fc-tok");
  const auto tok = (std::filesystem::path(dir) / "tokenizer.json").string();
  std::ofstream(tok) << "{}";  // exists (validation passes), is not a tokenizer
  auto cfg = load("state_dir: " + dir + R"(
providers:
  up: {type: openai, base_url: http://127.0.0.1:9, api_key: x, tokenizer: )" + tok + R"(}
models:
  fast: {targets: [{provider: up, model: m-fast}]}
teams: {t: {budget: {tokens_per_day: 1000}, max_prompt_tokens: 100}}
)");
  for (int which = 0; which < 2; ++which) {
    auto ctx = team_ctx(cfg);
    std::unique_ptr<policy::Filter> f;
    if (which == 0) f = std::make_unique<policy::BudgetFilter>();
    else f = std::make_unique<policy::LimitsFilter>();
    REQUIRE(run_request(*f, ctx) == policy::FilterStatus::Reply);
    CHECK(ctx.reply->http_status == 503);
    CHECK(ctx.reply->code == "tokenizer_unavailable");
  }
}

TEST_CASE("fail closed: an auth config naming an undefined team (stored key) is refused", "[fail_closed]") {
  auto dir = scratch_dir("fc-team");
  auto cfg = mutable_copy(load(base_yaml(dir, "teams: {t: {}}\nkeys: [{id: k, team: t, key: sk-config-key-2}]\n")));
  cfg->teams.clear();  // as after a reload that removed the team
  auto ctx = make_ctx(cfg, "sk-config-key-2", "fast");
  policy::AuthFilter auth;
  REQUIRE(run_request(auth, ctx) == policy::FilterStatus::Reply);
  CHECK(ctx.reply->http_status == 403);
  CHECK(ctx.reply->code == "team_not_configured");
}

TEST_CASE("normalised view: NFKC, invisible controls removed, case folded, mapped to the original", "[normalize]") {
  struct Case {
    std::string in;
    bool fold;
    std::string view;
  };
  const Case cases[] = {
      {"plain ascii", false, "plain ascii"},
      {"MiXeD", true, "mixed"},
      {"jane\u200B@corp.example", false, "jane@corp.example"},
      {"a\u200C\u200D\u2060\uFEFF\u00ADb", false, "ab"},
      {"\u202Eevil\u202C \u2066iso\u2069 \u200Eltr\u200F", false, "evil iso ltr"},
      {"\uFF14\uFF11\uFF11\uFF11", false, "4111"},                 // full-width digits
      {"\uFF30\uFF32\uFF2F\uFF2A\uFF25\uFF23\uFF34", true, "project"},  // full-width capitals, folded
      {"\uFB01le", false, "file"},                                  // ligature
      {"caf\u00E9", false, "caf\u00E9"},                            // already NFC: unchanged
      {"\xFF\xFE", false, "\xFF\xFE"},                              // invalid UTF-8 stays as is
  };
  for (const auto& c : cases) {
    INFO(c.in);
    policy::NormalizedText n(c.in, c.fold);
    CHECK(std::string(n.view()) == c.view);
  }
  // A match in the view covers the original bytes, invisible characters included.
  std::string original = "mail jane\u200B.doe@corp.example now";
  policy::NormalizedText n(original);
  auto at = std::string(n.view()).find("jane.doe@corp.example");
  REQUIRE(at != std::string::npos);
  const size_t b = n.original_begin(at), e = n.original_end(at + std::string("jane.doe@corp.example").size());
  CHECK(original.substr(b, e - b) == "jane\u200B.doe@corp.example");
}

TEST_CASE("DLP finds values however they are spelled and reports original byte ranges", "[dlp][normalize]") {
  policy::DlpEngine engine({});
  const int email = engine.find("email"), card = engine.find("credit_card");
  struct Case {
    std::string text;
    int detector;
    std::string value;  // the original bytes the match must cover
  };
  const Case cases[] = {
      {"to jane\u200B@corp.example.", email, "jane\u200B@corp.example"},
      {"to \uFF4A\uFF41\uFF4E\uFF45@corp.example!", email, "\uFF4A\uFF41\uFF4E\uFF45@corp.example"},
      {"pay \uFF14\uFF11\uFF11\uFF11 \uFF11\uFF11\uFF11\uFF11 \uFF11\uFF11\uFF11\uFF11 \uFF11\uFF11\uFF11\uFF11 now", card,
       "\uFF14\uFF11\uFF11\uFF11 \uFF11\uFF11\uFF11\uFF11 \uFF11\uFF11\uFF11\uFF11 \uFF11\uFF11\uFF11\uFF11"},
      {"pay 4111\u200D1111\u200D1111\u200D1111 now", card, "4111\u200D1111\u200D1111\u200D1111"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    std::vector<policy::DlpMatch> m;
    REQUIRE(engine.scan(c.text, m));
    REQUIRE(m.size() == 1);
    CHECK(m[0].detector == c.detector);
    CHECK(c.text.substr(m[0].start, m[0].end - m[0].start) == c.value);
  }
}

TEST_CASE("guardrails terms match across spellings; regexes keep their case", "[guardrails][normalize]") {
  policy::BlockList list({"Project-Zeus"}, {"SECRET-[0-9]{4}"});
  CHECK(list.first_match("about project-zeus") == 0);
  CHECK(list.first_match("about PROJECT\u200B-ZEUS") == 0);
  CHECK(list.first_match("about \uFF50\uFF52\uFF4F\uFF4A\uFF45\uFF43\uFF54\uFF0D\uFF5A\uFF45\uFF55\uFF53") == 0);
  CHECK(list.first_match("code SECRET-1234") == 1);
  CHECK(list.first_match("code \uFF33\uFF25\uFF23\uFF32\uFF25\uFF34-1234") == 1);
  CHECK(list.first_match("code secret-1234") == -1);  // the regex is case-sensitive
  CHECK(list.first_match("harmless") == -1);
}
