#include <fstream>
#include <set>

#include "policy_test_support.hpp"
#include "warden/policy/auth/auth_filter.hpp"
#include "warden/policy/auth/key_store.hpp"
#include "warden/policy/crypto.hpp"

using namespace warden;
using namespace policy_test;

namespace {
const std::string kTeams = R"(
teams:
  platform: {models: [fast]}
  research: {}
keys:
  - {id: ci-bot, team: platform, key: "${CI_KEY}"}
  - {id: hashed, team: research, sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08}
)";
}

TEST_CASE("auth: config keys from ${VAR} and sha256, Bearer and x-api-key", "[auth]") {
  auto dir = scratch_dir("auth");
  auto cfg = load(base_yaml(dir, kTeams), {{"CI_KEY", "secret-ci-key"}});
  policy::AuthFilter auth;

  auto ctx = make_ctx(cfg, "secret-ci-key", "fast");
  REQUIRE(run_request(auth, ctx) == policy::FilterStatus::Continue);
  CHECK(ctx.caller.key_id == "ci-bot");
  CHECK(ctx.caller.team == "platform");

  // sha256("test") is the configured hash
  auto ctx2 = make_ctx(cfg, "", "smart");
  ctx2.headers["x-api-key"] = "test";
  REQUIRE(run_request(auth, ctx2) == policy::FilterStatus::Continue);
  CHECK(ctx2.caller.key_id == "hashed");
  CHECK(ctx2.caller.team == "research");
}

TEST_CASE("auth: missing, wrong and near-miss keys are 401 invalid_api_key", "[auth]") {
  auto dir = scratch_dir("auth");
  auto cfg = load(base_yaml(dir, kTeams), {{"CI_KEY", "secret-ci-key"}});
  policy::AuthFilter auth;
  for (std::string key : {"", "secret-ci-kez", "secret-ci-key ", "Secret-ci-key", "wk-doesnotexist"}) {
    auto ctx = make_ctx(cfg, "", "fast");
    if (!key.empty()) ctx.headers["authorization"] = "Bearer " + key;
    INFO("key: '" << key << "'");
    if (key == "secret-ci-key ") {
      // surrounding whitespace is trimmed from the header value: this one is valid
      REQUIRE(run_request(auth, ctx) == policy::FilterStatus::Continue);
      continue;
    }
    REQUIRE(run_request(auth, ctx) == policy::FilterStatus::Reply);
    REQUIRE(ctx.reply);
    CHECK(ctx.reply->http_status == 401);
    CHECK(ctx.reply->code == "invalid_api_key");
    CHECK(ctx.reply->message.find("secret") == std::string::npos);
  }
  auto basic = make_ctx(cfg, "", "fast");
  basic.headers["authorization"] = "Basic secret-ci-key";
  CHECK(run_request(auth, basic) == policy::FilterStatus::Reply);
}

TEST_CASE("auth: alias outside the team's models is 403 model_not_allowed", "[auth]") {
  auto dir = scratch_dir("auth");
  auto cfg = load(base_yaml(dir, kTeams), {{"CI_KEY", "secret-ci-key"}});
  policy::AuthFilter auth;
  auto ctx = make_ctx(cfg, "secret-ci-key", "smart");
  REQUIRE(run_request(auth, ctx) == policy::FilterStatus::Reply);
  CHECK(ctx.reply->http_status == 403);
  CHECK(ctx.reply->code == "model_not_allowed");
}

TEST_CASE("auth: virtual keys: create, use, model restriction, revoke, rotate, expiry", "[auth][keys]") {
  auto dir = scratch_dir("vkeys");
  auto cfg = load(base_yaml(dir, kTeams), {{"CI_KEY", "secret-ci-key"}});
  policy::AuthFilter auth;
  policy::KeyStore store(dir);  // a second connection, like the CLI
  auto created = store.create("research", "notebook", {"smart"}, 0);
  CHECK(created.key.rfind("wk-", 0) == 0);
  CHECK(created.key.size() >= 32);

  // Only the hash is stored: the key text appears nowhere in the database file.
  {
    std::ifstream in(dir + "/warden.db", std::ios::binary);
    std::string all((std::istreambuf_iterator<char>(in)), {});
    std::ifstream wal(dir + "/warden.db-wal", std::ios::binary);
    all.append((std::istreambuf_iterator<char>(wal)), {});
    CHECK(all.find(created.key) == std::string::npos);
    CHECK(all.find(created.key.substr(3)) == std::string::npos);
  }

  auto ok = make_ctx(cfg, created.key, "smart");
  REQUIRE(run_request(auth, ok) == policy::FilterStatus::Continue);
  CHECK(ok.caller.key_id == created.record.id);
  CHECK(ok.caller.team == "research");

  auto wrong_model = make_ctx(cfg, created.key, "fast");
  REQUIRE(run_request(auth, wrong_model) == policy::FilterStatus::Reply);
  CHECK(wrong_model.reply->code == "model_not_allowed");

  auto rotated = store.rotate(created.record.id);
  REQUIRE(rotated);
  auto old_key = make_ctx(cfg, created.key, "smart");
  REQUIRE(run_request(auth, old_key) == policy::FilterStatus::Reply);
  CHECK(old_key.reply->http_status == 401);
  auto new_key = make_ctx(cfg, rotated->key, "smart");
  REQUIRE(run_request(auth, new_key) == policy::FilterStatus::Continue);
  CHECK(new_key.caller.key_id == rotated->record.id);

  REQUIRE(store.revoke(rotated->record.id));
  CHECK_FALSE(store.revoke(rotated->record.id));
  auto revoked = make_ctx(cfg, rotated->key, "smart");
  REQUIRE(run_request(auth, revoked) == policy::FilterStatus::Reply);
  CHECK(revoked.reply->code == "invalid_api_key");

  auto expired = store.create("research", "old", {}, policy::unix_now() - 1);
  auto exp_ctx = make_ctx(cfg, expired.key, "smart");
  REQUIRE(run_request(auth, exp_ctx) == policy::FilterStatus::Reply);
  CHECK(exp_ctx.reply->http_status == 401);

  auto listed = store.list();
  CHECK(listed.size() == 3);
}

TEST_CASE("auth: expiry parsing", "[keys]") {
  int64_t now = 1'700'000'000;
  CHECK(policy::parse_expiry("30d", now) == now + 30 * 86400);
  CHECK(policy::parse_expiry("12h", now) == now + 12 * 3600);
  CHECK(policy::parse_expiry("2026-12-31", now) == 1798761600);  // 2027-01-01T00:00:00Z
  CHECK_FALSE(policy::parse_expiry("soon", now));
  CHECK_FALSE(policy::parse_expiry("2026-13-01", now));
  CHECK_FALSE(policy::parse_expiry("d", now));
}

TEST_CASE("auth: the caller's user is replaced by a stable keyed hash", "[auth]") {
  auto dir = scratch_dir("user");
  auto cfg = load(base_yaml(dir, kTeams), {{"CI_KEY", "secret-ci-key"}});
  policy::AuthFilter auth;
  auto a = make_ctx(cfg, "secret-ci-key", "fast");
  a.request.user = "alice@example.com";
  REQUIRE(run_request(auth, a) == policy::FilterStatus::Continue);
  auto b = make_ctx(cfg, "secret-ci-key", "fast");
  b.request.user = "alice@example.com";
  REQUIRE(run_request(auth, b) == policy::FilterStatus::Continue);
  auto c = make_ctx(cfg, "secret-ci-key", "fast");
  c.request.user = "bob@example.com";
  REQUIRE(run_request(auth, c) == policy::FilterStatus::Continue);
  CHECK(a.request.user == b.request.user);
  CHECK(a.request.user != c.request.user);
  CHECK(a.request.user.find("alice") == std::string::npos);
  CHECK(a.request.user.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") ==
        std::string::npos);
  // Keyed: a different secret gives a different pseudonym.
  CHECK(policy::hash_user("s1", "alice") != policy::hash_user("s2", "alice"));
  // The secret persisted in state_dir.
  CHECK(std::filesystem::exists(dir + "/secret"));
}

TEST_CASE("crypto: sha256, hmac and constant-time compare", "[crypto]") {
  CHECK(policy::sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // RFC 4231 test case 2
  CHECK(policy::hmac_sha256_hex("Jefe", "what do ya want for nothing?") ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  CHECK(policy::constant_time_equal("abc", "abc"));
  CHECK_FALSE(policy::constant_time_equal("abc", "abd"));
  CHECK_FALSE(policy::constant_time_equal("abc", "abcd"));
}
