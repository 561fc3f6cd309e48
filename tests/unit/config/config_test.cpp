// Config loading: diagnostics with exact file:line:col, did-you-mean, ${VAR} expansion,
// cross-references, and the shipped quickstart file.
#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "warden/config/config.hpp"
#include "warden/config/digest.hpp"
#include "warden/config/reader.hpp"

using namespace warden::config;

namespace {

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

LoadResult load(const std::string& text, std::map<std::string, std::string> vars = {}) {
  return load_config_text(text, "test.yaml", env_of(std::move(vars)));
}

const Diagnostic* find_at(const LoadResult& r, int line, int col) {
  for (const auto& d : r.diagnostics)
    if (d.line == line && d.col == col) return &d;
  return nullptr;
}

std::string all(const LoadResult& r) {
  std::string s;
  for (const auto& d : r.diagnostics) s += d.to_string() + "\n";
  return s;
}

const std::string kGood = R"(providers:
  up:
    type: openai
    base_url: http://127.0.0.1:9
    api_key: sk-test
models:
  fast:
    targets:
      - provider: up
        model: deepseek-v4-flash
)";

}  // namespace

TEST_CASE("a minimal valid config loads with defaults", "[config]") {
  auto r = load(kGood);
  INFO(all(r));
  REQUIRE(r.ok());
  const Config& c = *r.config;
  CHECK(c.server.listen.host == "127.0.0.1");
  CHECK(c.server.listen.port == 8080);
  CHECK(c.server.limits.max_body_bytes == 4 * 1024 * 1024);
  REQUIRE(c.provider("up"));
  CHECK(c.provider("up")->type == ProviderType::OpenAI);
  CHECK(c.provider("up")->api_key == "sk-test");
  REQUIRE(c.model("fast"));
  REQUIRE(c.model("fast")->targets.size() == 1);
  CHECK(c.model("fast")->targets[0].provider == "up");
  CHECK(c.model("fast")->targets[0].weight == 1);
  CHECK(c.model("fast")->targets[0].provider_pos.line == 9);
}

TEST_CASE("unknown key: exact line:col and a did-you-mean", "[config]") {
  std::string text = kGood;
  text.replace(text.find("    base_url:"), 13, "    base_ur:");
  auto r = load(text);
  REQUIRE_FALSE(r.ok());
  const Diagnostic* d = find_at(r, 4, 5);
  INFO(all(r));
  REQUIRE(d);
  CHECK(d->file == "test.yaml");
  CHECK(d->message == "unknown key 'base_ur' in providers.up (did you mean 'base_url'?)");
  CHECK(d->to_string() == "test.yaml:4:5: " + d->message);
}

TEST_CASE("unknown top-level and nested keys, without a suggestion when nothing is close", "[config]") {
  auto r = load("servr:\n  listen: 127.0.0.1:1\nzzzzzzzz: 1\n");
  INFO(all(r));
  REQUIRE(find_at(r, 1, 1));
  CHECK(find_at(r, 1, 1)->message == "unknown key 'servr' (did you mean 'server'?)");
  REQUIRE(find_at(r, 3, 1));
  CHECK(find_at(r, 3, 1)->message == "unknown key 'zzzzzzzz'");
}

TEST_CASE("wrong type points at the value", "[config]") {
  auto r = load("server:\n  limits:\n    max_body_bytes: lots\n  threads: [1]\n" + kGood);
  INFO(all(r));
  REQUIRE_FALSE(r.ok());
  REQUIRE(find_at(r, 3, 21));
  CHECK(find_at(r, 3, 21)->message == "server.limits.max_body_bytes: expected an integer, got \"lots\"");
  REQUIRE(find_at(r, 4, 12));
  CHECK(find_at(r, 4, 12)->message == "server.threads: expected a scalar, got a list");
}

TEST_CASE("out-of-range values and bad enums", "[config]") {
  auto r = load("server:\n  threads: -1\n  listen: 127.0.0.1:70000\n" + kGood + "    fallback: 3\n");
  INFO(all(r));
  REQUIRE(find_at(r, 2, 12));
  CHECK(find_at(r, 2, 12)->message.find("between 0 and 1024") != std::string::npos);
  REQUIRE(find_at(r, 3, 11));
  CHECK(find_at(r, 3, 11)->message == "server.listen: bad port (expected 0-65535)");
  auto r2 = load("providers:\n  up:\n    type: opneai\n    base_url: http://x\n");
  INFO(all(r2));
  REQUIRE(find_at(r2, 3, 11));
  CHECK(find_at(r2, 3, 11)->message ==
        "providers.up.type: expected one of openai | anthropic | local (did you mean 'openai'?)");
}

TEST_CASE("a model target naming a missing provider", "[config]") {
  std::string text = kGood;
  text.replace(text.find("provider: up"), 12, "provider: uq");
  auto r = load(text);
  INFO(all(r));
  REQUIRE(find_at(r, 9, 19));
  CHECK(find_at(r, 9, 19)->message == "models.fast: provider 'uq' is not defined in providers (did you mean 'up'?)");
}

TEST_CASE("fallbacks, rules, team models must name aliases", "[config]") {
  auto r = load(kGood +
                "    fallback: [fsat]\n"
                "routing:\n  rules:\n    - {when: {team: a}, use: nowhere}\n"
                "teams:\n  a:\n    models: [fast, slow]\n");
  INFO(all(r));
  REQUIRE(find_at(r, 11, 16));
  CHECK(find_at(r, 11, 16)->message == "models.fast.fallback: 'fsat' is not a model alias (did you mean 'fast'?)");
  REQUIRE(find_at(r, 14, 30));
  CHECK(find_at(r, 14, 30)->message == "routing.rules: 'nowhere' is not a model alias");
  REQUIRE(find_at(r, 17, 20));
  CHECK(find_at(r, 17, 20)->message.find("'slow' is not a model alias") != std::string::npos);
}

TEST_CASE("every error is reported, in file order", "[config]") {
  std::string text = kGood;
  text.replace(text.find("    base_url:"), 13, "    base_ur:");
  text.replace(text.find("provider: up"), 12, "provider: nope");
  auto r = load("server:\n  threads: x\n" + text);
  INFO(all(r));
  REQUIRE(find_at(r, 2, 12));
  REQUIRE(find_at(r, 6, 5));    // base_ur
  REQUIRE(find_at(r, 11, 19));  // nope
  for (size_t i = 1; i < r.diagnostics.size(); ++i)
    CHECK(std::make_pair(r.diagnostics[i - 1].line, r.diagnostics[i - 1].col) <=
          std::make_pair(r.diagnostics[i].line, r.diagnostics[i].col));
}

TEST_CASE("${VAR} expansion: set, default, literal $$", "[config][env]") {
  std::string text = kGood;
  text.replace(text.find("sk-test"), 7, "\"${UP_KEY}\"");
  text += "state_dir: ${STATE:-/tmp/warden-default}/x\n";
  text += "audit: {file: \"cost$$5\"}\n";
  auto r = load(text, {{"UP_KEY", "sk-from-env"}});
  INFO(all(r));
  REQUIRE(r.ok());
  CHECK(r.config->provider("up")->api_key == "sk-from-env");
  CHECK(r.config->state_dir == "/tmp/warden-default/x");
  CHECK(r.config->audit.file == "cost$5");
  // A set variable wins over the default; ${X:-} allows empty.
  auto r2 = load(kGood + "state_dir: ${STATE:-/nope}\nserver: {admin_token: \"${EMPTY:-}\"}\n", {{"STATE", "/var/w"}});
  INFO(all(r2));
  REQUIRE(r2.ok());
  CHECK(r2.config->state_dir == "/var/w");
  CHECK(r2.config->server.admin_token.empty());
  // Numbers and booleans expand too.
  auto r3 = load(kGood + "server: {threads: \"${THREADS}\"}\ncache: {enabled: \"${CACHE}\"}\n",
                 {{"THREADS", "3"}, {"CACHE", "true"}});
  INFO(all(r3));
  REQUIRE(r3.ok());
  CHECK(r3.config->server.threads == 3);
  CHECK(r3.config->cache.enabled);
}

TEST_CASE("bad or unset ${VAR} is an error at its value; env values are never echoed", "[config][env]") {
  auto r = load(kGood +
                "state_dir: ${NOT_SET}\n"        // line 11
                "audit: {file: \"${oops\"}\n"     // line 12
                "cache: {ttl_s: \"${1BAD}\"}\n"   // line 13
                "server: {threads: \"${SECRET_THREADS}\"}\n",  // line 14
                {{"SECRET_THREADS", "sk-not-a-number"}});
  INFO(all(r));
  REQUIRE_FALSE(r.ok());
  REQUIRE(find_at(r, 11, 12));
  CHECK(find_at(r, 11, 12)->message.find("environment variable NOT_SET is not set") != std::string::npos);
  CHECK(find_at(r, 11, 12)->message.rfind("state_dir: ", 0) == 0);
  REQUIRE(find_at(r, 12, 15));
  CHECK(find_at(r, 12, 15)->message.find("unterminated ${") != std::string::npos);
  REQUIRE(find_at(r, 13, 16));
  CHECK(find_at(r, 13, 16)->message.find("bad variable reference ${1BAD}") != std::string::npos);
  REQUIRE(find_at(r, 14, 19));
  CHECK(find_at(r, 14, 19)->message == "server.threads: expected an integer");
  CHECK(all(r).find("sk-not-a-number") == std::string::npos);
}

TEST_CASE("YAML syntax errors carry a position", "[config]") {
  auto r = load(kGood + "routing: {retries: [1, 2}\n");
  REQUIRE_FALSE(r.ok());
  REQUIRE(r.diagnostics.size() == 1);
  CHECK(r.diagnostics[0].line >= 11);
  CHECK(r.diagnostics[0].message.rfind("YAML syntax error", 0) == 0);
}

TEST_CASE("duplicate keys are errors", "[config]") {
  auto r = load(kGood + "state_dir: a\nstate_dir: b\n");
  INFO(all(r));
  REQUIRE(find_at(r, 12, 1));
  CHECK(find_at(r, 12, 1)->message == "duplicate key 'state_dir'");
}

TEST_CASE("target params become JSON; keys hash plain values", "[config]") {
  auto r = load(kGood +
                "        params: {thinking: {type: enabled}, temperature: 0.5, n: 2, flag: true, s: \"2\", none: null, l: [a, 1]}\n"
                "teams: {t: {}}\n"
                "keys:\n"
                "  - {id: a, team: t, key: \"${CALLER}\"}\n"
                "  - {id: b, team: t, sha256: BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD, models: [fast]}\n",
                {{"CALLER", "password"}});
  INFO(all(r));
  REQUIRE(r.ok());
  CHECK(r.config->model("fast")->targets[0].params_json ==
        R"({"thinking":{"type":"enabled"},"temperature":0.5,"n":2,"flag":true,"s":"2","none":null,"l":["a",1]})");
  REQUIRE(r.config->keys.size() == 2);
  // sha256("password"), computed independently (well-known test vector).
  const std::string pw = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8";
  CHECK(r.config->keys[0].sha256 == pw);
  // Upper-case hex is normalised; sha256("abc") is the FIPS 180-2 test vector.
  CHECK(r.config->keys[1].sha256 == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(r.config->keys[1].models == std::vector<std::string>{"fast"});
  CHECK(r.config->key_by_sha256(pw)->id == "a");
}

TEST_CASE("key entries are validated", "[config]") {
  auto r = load(kGood +
                "keys:\n"
                "  - {id: a, sha256: abc}\n"       // 12
                "  - {id: a, key: x, sha256: " + std::string(64, 'a') + "}\n"  // 13
                "  - {team: t}\n");                 // 14
  INFO(all(r));
  REQUIRE(find_at(r, 12, 21));
  CHECK(find_at(r, 12, 21)->message.find("64 hex digits") != std::string::npos);
  REQUIRE(find_at(r, 13, 10));
  CHECK(find_at(r, 13, 10)->message.find("duplicate key id 'a'") != std::string::npos);
  REQUIRE(find_at(r, 13, 13));
  CHECK(find_at(r, 13, 13)->message.find("either sha256 or key") != std::string::npos);
  REQUIRE(find_at(r, 14, 5));
}

TEST_CASE("provider fields are checked against the provider type", "[config]") {
  auto r = load(
      "providers:\n"
      "  l:\n"
      "    type: local\n"
      "    base_url: http://x\n"  // 4: not for local
      "  r:\n"
      "    type: openai\n"
      "    base_url: ftp://x\n"  // 7
      "    model_dir: ./m\n"  // 8
      "  n:\n"
      "    base_url: http://x\n");  // 9: type missing
  INFO(all(r));
  REQUIRE(find_at(r, 2, 3));  // l: model_dir required
  REQUIRE(find_at(r, 4, 5));
  REQUIRE(find_at(r, 7, 15));
  CHECK(find_at(r, 7, 15)->message == "providers.r.base_url: must start with http:// or https://");
  REQUIRE(find_at(r, 8, 5));
  REQUIRE(find_at(r, 9, 3));
  CHECK(find_at(r, 9, 3)->message.find("providers.n.type: required") == 0);
}

TEST_CASE("admin listener needs a token; tls needs readable files", "[config]") {
  auto r = load(kGood + "server:\n  admin_listen: 127.0.0.1:0\n  tls: {cert: /nonexistent/c.pem}\n");
  INFO(all(r));
  REQUIRE(find_at(r, 12, 17));
  CHECK(find_at(r, 12, 17)->message.find("needs server.admin_token") != std::string::npos);
  bool key_required = false, cert_missing = false;
  for (const auto& d : r.diagnostics) {
    key_required |= d.message.find("server.tls.key: required") != std::string::npos;
    cert_missing |= d.message.find("server.tls.cert: file not found") != std::string::npos;
  }
  CHECK(key_required);
  CHECK(cert_missing);
}

TEST_CASE("parse_host_port", "[config]") {
  auto a = parse_host_port("127.0.0.1:0");
  REQUIRE(a);
  CHECK(a->host == "127.0.0.1");
  CHECK(a->port == 0);
  auto b = parse_host_port("[::1]:8080");
  REQUIRE(b);
  CHECK(b->host == "::1");
  CHECK(b->to_string() == "[::1]:8080");
  auto c = parse_host_port(":9000");
  REQUIRE(c);
  CHECK(c->host == "0.0.0.0");
  std::string err;
  CHECK_FALSE(parse_host_port("localhost", &err));
  CHECK_FALSE(err.empty());
  CHECK_FALSE(parse_host_port("::1:80"));
  CHECK_FALSE(parse_host_port("h:65536"));
  CHECK_FALSE(parse_host_port("h:8x"));
}

TEST_CASE("did_you_mean picks the closest candidate within a small distance", "[config]") {
  std::vector<std::string> c{"listen", "admin_listen", "threads", "limits"};
  CHECK(did_you_mean("listn", c) == "listen");
  CHECK(did_you_mean("thraeds", c) == "threads");
  CHECK(did_you_mean("admin-listen", c) == "admin_listen");
  CHECK(did_you_mean("completely_different", c).empty());
}

TEST_CASE("sha256_hex and constant_time_equal", "[config]") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(constant_time_equal("abc", "abc"));
  CHECK_FALSE(constant_time_equal("abc", "abd"));
  CHECK_FALSE(constant_time_equal("abc", "abcd"));
}

TEST_CASE("ConfigStore swaps snapshots; readers keep theirs", "[config]") {
  auto first = load(kGood).config;
  REQUIRE(first);
  first->generation = 1;
  ConfigStore store(first);
  auto pinned = store.current();
  auto second = load(kGood + "state_dir: /elsewhere\n").config;
  second->generation = 2;
  auto old = store.swap(second);
  CHECK(old->generation == 1);
  CHECK(pinned->state_dir == "./var");
  CHECK(store.current()->generation == 2);
  CHECK(store.current()->state_dir == "/elsewhere");
}

TEST_CASE("configs/quickstart.yaml loads without DEEPSEEK_API_KEY", "[config]") {
  auto r = load_config(std::string(WARDEN_SOURCE_DIR) + "/configs/quickstart.yaml", env_of({}));
  INFO(all(r));
  REQUIRE(r.ok());
  const Config& c = *r.config;
  CHECK(c.server.listen.to_string() == "127.0.0.1:8080");
  CHECK(c.provider("deepseek")->api_key.empty());
  CHECK(c.provider("local")->type == ProviderType::Local);
  for (const char* alias : {"enterprise-fast", "enterprise-reasoning", "enterprise-local"}) CHECK(c.model(alias));
  CHECK(c.model("enterprise-reasoning")->targets[0].params_json == R"({"thinking":{"type":"enabled"}})");
  // The quickstart key is wk-quickstart.
  REQUIRE(c.key_by_sha256(sha256_hex("wk-quickstart")));
  auto with_key = load_config(std::string(WARDEN_SOURCE_DIR) + "/configs/quickstart.yaml",
                              env_of({{"DEEPSEEK_API_KEY", "sk-x"}}));
  REQUIRE(with_key.ok());
  CHECK(with_key.config->provider("deepseek")->api_key == "sk-x");
}

TEST_CASE("a missing file is a diagnostic naming it", "[config]") {
  auto r = load_config("/nonexistent/warden.yaml", env_of({}));
  REQUIRE_FALSE(r.ok());
  REQUIRE(r.diagnostics.size() == 1);
  CHECK(r.diagnostics[0].file == "/nonexistent/warden.yaml");
}
